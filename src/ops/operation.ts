import { type Auditor, type FinalStatus, NoopAuditor, type RunStart } from "../audit/auditor.ts";
import type { OpsEvent } from "../audit/events.ts";
import { auditObserver } from "../audit/observer.ts";
import { openRunAuditor } from "../audit/open.ts";
import type { Config } from "../config/load.ts";
import { openSession } from "../kube/session.ts";
import type { Logger } from "../log/logger.ts";
import type { OpsContext, StatusReporter } from "./context.ts";
import { OUTCOMES, type Outcome } from "./outcome.ts";
import { interruptible } from "./signals.ts";

export interface OperationInput {
  config: Config;
  env: Record<string, string | undefined>;
  logger: Logger;
  status: StatusReporter;
  /** The audit row: the run id of a run, a fresh id for a cleanup. */
  auditId: string;
  /** False: no audit row at all (cleanup --dry-run). */
  audit: boolean;
  /** Record the steps' events (objects, VM phases, retries) in the audit trail (a run does). */
  recordEvents: boolean;
  /** The audit_log row, once the cluster context is known. */
  describe: (clusterContext: string) => RunStart;
}

/**
 * The frame of every operation against a cluster: opens the audit database and the cluster
 * session, starts the audit row, handles SIGINT/SIGTERM/SIGHUP, runs `body` over one context, and
 * always completes the audit row with the outcome's status and closes everything.
 */
export async function withOperation<R extends { outcome: Outcome; message?: string }>(
  input: OperationInput,
  body: (ctx: OpsContext, auditor: Auditor, contextName: string) => Promise<R>,
): Promise<R> {
  const { config, logger, status, auditId } = input;
  // Process-wide since start-up (signals.ts): a signal that came while loading is seen here.
  const signals = interruptible(logger);
  const auditor = input.audit ? await openRunAuditor(config, input.env, logger) : new NoopAuditor();
  const observe = input.recordEvents ? auditObserver(auditor, auditId, config.namespace) : () => {};
  let session: Awaited<ReturnType<typeof openSession>>;
  try {
    session = await openSession(config, input.env, logger, (notice) => observe({ type: "retry", ...notice }));
  } catch (err) {
    await auditor.close();
    throw err;
  }
  // A second signal exits at once, but not before the audit row says "cancelled".
  const removeLastWords = signals.onSecondSignal(async () => {
    await auditor.completeRun(auditId, OUTCOMES.interrupted.audit, "interrupted by a second signal");
    await auditor.close();
  });
  await auditor.startRun(input.describe(session.contextName));
  let finalStatus: FinalStatus = "failed";
  let errorSummary: string | undefined;
  try {
    const ctx: OpsContext = {
      // Every call of the operation stops at SIGINT, discovery and preflight included.
      api: session.api.withSignal(signals.signal),
      logger,
      signal: signals.signal,
      status,
      progress: (line) => status.progress(line),
      emit: (event: OpsEvent) => {
        logger.debug(event.type, { ...event });
        observe(event);
      },
    };
    const result = await body(ctx, auditor, session.contextName);
    finalStatus = OUTCOMES[result.outcome].audit;
    errorSummary = result.message;
    return result;
  } catch (err) {
    errorSummary = (err as Error).message;
    if (signals.interrupted()) finalStatus = OUTCOMES.interrupted.audit;
    throw err;
  } finally {
    status.done();
    removeLastWords();
    signals.dispose();
    session.close();
    await auditor.completeRun(auditId, finalStatus, errorSummary);
    await auditor
      .close()
      .catch((err: unknown) => logger.warn("audit: could not close", { error: String(err) }));
  }
}
