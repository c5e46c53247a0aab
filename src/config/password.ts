import type { SettingName } from "./settings.ts";
import { asPassword, ValueProblem } from "./values.ts";

/**
 * The guest user's password from `--ssh-password-file` / VIRTWORK_SSH_PASSWORD_FILE /
 * `ssh-password-file:` (its first line) or `--ssh-password` / VIRTWORK_SSH_PASSWORD /
 * `ssh-password:`. On the command line it works, with a warning: other users of the
 * machine see it in `ps` and it lands in shell history. Problems never quote the password.
 */
export function readPassword(
  given: string | undefined,
  file: string | undefined,
  sources: Partial<Record<SettingName, string>>,
  readFile: (path: string) => string,
  problems: string[],
  warnings: string[],
): string | undefined {
  if (given !== undefined && file !== undefined) {
    problems.push(
      `${sources.sshPassword}: give the password once: either it or ${sources.sshPasswordFile}, not both`,
    );
    return undefined;
  }
  if (given !== undefined) {
    if (sources.sshPassword === "--ssh-password") {
      warnings.push(
        "--ssh-password: the password is visible to other users of this machine (ps, shell history); use --ssh-password-file or VIRTWORK_SSH_PASSWORD",
      );
    }
    return given;
  }
  if (file === undefined) return undefined;
  const where = `${sources.sshPasswordFile}: ${file}`;
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (err as Error).message;
    problems.push(`${where}: cannot read the password file: ${reason}`);
    return undefined;
  }
  // The first line, without its line ending (files written by `echo` or an editor).
  const [first = "", ...rest] = text.split(/\r?\n/);
  if (rest.some((line) => line.trim() !== "")) {
    problems.push(`${where}: must hold the password on one line, and nothing else`);
    return undefined;
  }
  try {
    return asPassword(first);
  } catch (err) {
    if (!(err instanceof ValueProblem)) throw err;
    problems.push(`${where}: the password ${err.message}`);
    return undefined;
  }
}
