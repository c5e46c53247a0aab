import type { KubeApi } from "../kube/api.ts";
import type { Logger } from "../log/logger.ts";

/** Something that happened during a run or cleanup; the audit trail records these. */
export type OpsEvent =
  | { type: "namespace_ensured"; namespace: string; created: boolean }
  | { type: "object_created"; kind: string; name: string }
  | { type: "object_skipped"; kind: string; name: string; reason: string }
  | {
      type: "retry";
      verb: string;
      resource: string;
      name?: string;
      attempt: number;
      delayMs: number;
      error: string;
    }
  | { type: "vm_phase"; name: string; phase: string; at: string }
  | { type: "vm_running"; name: string; at: string; node?: string; ip?: string }
  | { type: "vm_failed"; name: string; reason: string }
  | { type: "interrupted"; stage: string }
  | { type: "objects_deleted"; kind: string; count: number; runIds: string[] };

/** Shared by every step of an operation (kind's action context, in spirit). */
export interface OpsContext {
  api: KubeApi;
  logger: Logger;
  /** Aborted on SIGINT/SIGTERM: steps stop starting new work. */
  signal: AbortSignal;
  emit: (event: OpsEvent) => void;
  progress: (line: string) => void;
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
