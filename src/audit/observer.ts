import type { Auditor } from "./auditor.ts";
import type { OpsEvent } from "./events.ts";

/** Records what the operation steps report; writes are queued in order and never fail the run. */
export function auditObserver(auditor: Auditor, runId: string, namespace: string): (event: OpsEvent) => void {
  return (event) => {
    switch (event.type) {
      case "namespace_ensured":
        void auditor.recordResource(runId, {
          kind: "Namespace",
          name: event.namespace,
          namespace: event.namespace,
          status: event.created ? "created" : "skipped",
        });
        return;
      case "object_created":
      case "object_skipped":
        if (event.kind === "Namespace") return;
        void auditor.recordResource(runId, {
          kind: event.kind,
          name: event.name,
          namespace,
          status: event.type === "object_created" ? "created" : "skipped",
          ...(event.type === "object_skipped" && event.ownerRunId ? { ownerRunId: event.ownerRunId } : {}),
        });
        return;
      case "retry":
        void auditor.recordEvent(runId, {
          type: "retry",
          message: `${event.verb} ${event.resource}${event.name ? ` ${event.name}` : ""}: attempt ${event.attempt}`,
          error: event.error,
          details: { attempt: event.attempt, delayMs: Math.round(event.delayMs) },
        });
        return;
      case "vm_phase":
        void auditor.updateVm(runId, event.name, {
          phase: event.phase,
          ...(event.phase === "Scheduled" ? { scheduledAt: event.at } : {}),
        });
        return;
      case "vm_running":
        void auditor.updateVm(runId, event.name, { phase: "Running", runningAt: event.at });
        return;
      case "vm_ready":
        // created → scheduled → running → ready: the readiness probe passed.
        void auditor.updateVm(runId, event.name, { status: "ready", readyAt: event.at });
        return;
      case "vm_failed":
        void auditor.updateVm(runId, event.name, { status: "failed", error: event.reason });
        return;
      case "interrupted":
      case "objects_deleted":
        return;
    }
  };
}
