/** Exit codes of the CLI contract (design §3). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
} as const;

/**
 * Bad input: flags, env, config file, params, workload names. Always detected before any
 * API call; the CLI prints `Error: <message>` on one line and exits 2.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Collects several usage problems so the user sees every one of them at once. */
export function usageErrorFrom(problems: string[]): UsageError {
  return new UsageError(problems.length === 1 ? (problems[0] ?? "") : problems.join("; "));
}
