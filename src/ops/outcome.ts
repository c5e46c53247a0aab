import type { FinalStatus } from "../audit/auditor.ts";
import { ExitCode } from "../errors.ts";

/**
 * How a run or cleanup ended: the one vocabulary behind the printed summary, the audit row's
 * status and the exit code (see OUTCOMES).
 */
export type Outcome =
  /** run --dry-run=client: the plan was printed, nothing was sent. */
  | "planned"
  /** run: every VM is running. */
  | "ready"
  /** run --no-wait: the objects were created. */
  | "created"
  /** run --dry-run=server, cleanup --dry-run: the cluster or the preview checked, nothing changed. */
  | "checked"
  /** cleanup: what virtwork created is deleted (or there was nothing to delete). */
  | "deleted"
  /** cleanup: the user did not confirm. */
  | "declined"
  /** a VM failed, or objects could not be deleted. */
  | "failed"
  /** the VMs were not running in time. */
  | "timeout"
  /** SIGINT/SIGTERM stopped it. */
  | "interrupted";

/** What each outcome means for the audit row and the exit code. */
export const OUTCOMES: Record<Outcome, { audit: FinalStatus; exitCode: number }> = {
  planned: { audit: "success", exitCode: ExitCode.ok },
  ready: { audit: "success", exitCode: ExitCode.ok },
  created: { audit: "success", exitCode: ExitCode.ok },
  checked: { audit: "success", exitCode: ExitCode.ok },
  deleted: { audit: "success", exitCode: ExitCode.ok },
  declined: { audit: "aborted", exitCode: ExitCode.ok },
  failed: { audit: "failed", exitCode: ExitCode.failure },
  timeout: { audit: "failed", exitCode: ExitCode.failure },
  interrupted: { audit: "cancelled", exitCode: ExitCode.interrupted },
};
