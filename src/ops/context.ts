import type { OpsEvent } from "../audit/events.ts";
import type { KubeApi } from "../kube/api.ts";
import type { Logger } from "../log/logger.ts";

/**
 * Where an operation says how far it is: each step's start and end (with what it counted),
 * and progress lines within a step. The CLI renders it on stderr.
 */
export interface StatusReporter {
  stepStarted(step: string): void;
  stepEnded(step: string, end: StepEnd): void;
  /** Progress within the running step, e.g. "created 3/18 objects". */
  progress(line: string): void;
  /** The operation is over: clear whatever is live on the terminal. */
  done(): void;
}

export interface StepEnd {
  ok: boolean;
  ms: number;
  /** What the step counted, e.g. { created: 8, existing: 0 }. */
  counts?: Record<string, number>;
  /** Why the step failed: its error's message, or a short shortfall like "timeout, 5/8 running". */
  error?: string;
  /** The step threw: its error is reported once, by whoever catches it, so the step line need not repeat it. */
  threw?: boolean;
}

/** Shared by every step of an operation (kind's action context, in spirit). */
export interface OpsContext {
  api: KubeApi;
  logger: Logger;
  /** Aborted on SIGINT/SIGTERM: steps stop starting new work. */
  signal: AbortSignal;
  /** Reports an event to the verbose log and the audit observer. */
  emit: (event: OpsEvent) => void;
  /** Progress within the running step (the status reporter's live line). */
  progress: (line: string) => void;
  status: StatusReporter;
}

/** The verbose log line of a watch that was resumed (kube/watch.ts onResume): why, and after how long. */
export function logWatchResume(ctx: OpsContext, resource: string) {
  return (how: "rewatch" | "relist", why: string, delayMs: number) =>
    ctx.logger.debug("watch resumed", { resource, how, why, delay_ms: Math.round(delayMs) });
}

/** One named step of an operation over its state; returns what it counted. */
export interface Step<S> {
  name: string;
  /** The step runs only when this holds (e.g. "wait" without --no-wait). */
  when?: (state: S) => boolean;
  run: (ctx: OpsContext, state: S) => Promise<Record<string, number> | undefined>;
  /** After a run that did not throw: why the step still did not succeed (e.g. the wait timed out). */
  shortfall?: (state: S) => string | undefined;
}

/** Runs the steps in order, reporting each start and end; stops before a step once aborted. */
export async function runSteps<S>(ctx: OpsContext, steps: readonly Step<S>[], state: S): Promise<void> {
  for (const step of steps) {
    if (step.when && !step.when(state)) continue;
    if (ctx.signal.aborted) throw new Interrupted(step.name);
    ctx.status.stepStarted(step.name);
    ctx.logger.debug("step started", { step: step.name });
    const started = Date.now();
    try {
      const counts = await step.run(ctx, state);
      const ms = Date.now() - started;
      const shortfall = step.shortfall?.(state);
      ctx.status.stepEnded(step.name, {
        ok: shortfall === undefined,
        ms,
        ...(counts ? { counts } : {}),
        ...(shortfall ? { error: shortfall } : {}),
      });
      ctx.logger.debug("step ended", { step: step.name, ms, ...counts });
    } catch (err) {
      const ms = Date.now() - started;
      ctx.status.stepEnded(step.name, { ok: false, ms, error: (err as Error).message, threw: true });
      ctx.logger.debug("step failed", { step: step.name, ms, error: (err as Error).message });
      throw err;
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; stops starting new ones on abort or error. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length && failure === undefined && !signal.aborted) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure;
}

/** Thrown when a signal stopped the operation. */
export class Interrupted extends Error {
  override name = "Interrupted";
}
