import type { RetryNotice } from "../kube/session.ts";

/**
 * What the steps of a run or cleanup report as they go (src/ops/ emits these through its
 * context); the audit observer records them, the verbose log shows them.
 */
export type OpsEvent =
  | { type: "namespace_ensured"; namespace: string; created: boolean }
  | { type: "object_created"; kind: string; name: string }
  | { type: "object_skipped"; kind: string; name: string; reason: string; ownerRunId?: string }
  | ({ type: "retry" } & RetryNotice)
  | { type: "vm_phase"; name: string; phase: string; at: string }
  | { type: "vm_running"; name: string; at: string; node?: string; ip?: string }
  | { type: "vm_ready"; name: string; at: string }
  | { type: "vm_failed"; name: string; reason: string }
  | { type: "interrupted"; stage: string }
  | { type: "objects_deleted"; kind: string; count: number; runIds: string[] };
