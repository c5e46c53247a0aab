import { ExitCode } from "../errors.ts";
import type { KubeApi } from "../kube/api.ts";
import type { KubeClient } from "../kube/client.ts";
import { qualifiedName } from "../kube/resources.ts";
import type { Logger } from "../log/logger.ts";
import type { OpsContext, OpsEvent } from "../ops/context.ts";
import type { CliContext } from "./context.ts";

export interface ClusterSession {
  api: KubeApi;
  client: KubeClient;
  contextName: string;
  close(): void;
}

/** Connects with the kubeconfig chain, --context, and the configured rate limit. */
export async function openCluster(
  settings: { kubeconfig?: string; context?: string; qps: number; burst: number },
  ctx: CliContext,
  logger: Logger,
  onEvent: (event: OpsEvent) => void = () => {},
): Promise<ClusterSession> {
  // Loaded here, not at start-up: node:http/https and the kube client cost milliseconds that
  // --help and --dry-run should not pay.
  const [{ connect }, { KubeClient }, { KubeApi }] = await Promise.all([
    import("../kube/connect.ts"),
    import("../kube/client.ts"),
    import("../kube/api.ts"),
  ]);
  const connection = await connect({
    ...(settings.kubeconfig ? { kubeconfig: settings.kubeconfig } : {}),
    ...(settings.context ? { context: settings.context } : {}),
    env: ctx.env,
  });
  logger.debug("connected", {
    context: connection.contextName,
    server: connection.server,
    source: connection.source,
  });
  const client = await KubeClient.create(connection, {
    qps: settings.qps,
    burst: settings.burst,
    onRetry: (call, err, attempt, delayMs) => {
      const resource = call.resource ? qualifiedName(call.resource) : "";
      logger.warn("retrying API call", {
        verb: call.verb,
        resource,
        name: call.name,
        attempt,
        delay_ms: Math.round(delayMs),
        error: (err as Error).message,
      });
      onEvent({
        type: "retry",
        verb: call.verb,
        resource,
        ...(call.name ? { name: call.name } : {}),
        attempt,
        delayMs,
        error: (err as Error).message,
      });
    },
  });
  return {
    api: new KubeApi(client),
    client,
    contextName: connection.contextName,
    close: () => client.close(),
  };
}

/**
 * SIGINT/SIGTERM: the first aborts the returned signal (steps stop starting new work and
 * report); a second exits at once with 130.
 */
export function interruptible(logger: Logger): {
  signal: AbortSignal;
  interrupted: () => boolean;
  dispose: () => void;
} {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    logger.warn(`${name} received: stopping; press Ctrl-C again to exit at once`);
    controller.abort(new Error(`interrupted by ${name}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    interrupted: () => controller.signal.aborted,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/**
 * Progress on stderr: a live line on a terminal; otherwise a plain log line at most every
 * few seconds, so CI logs show movement without one line per object.
 */
export function progressWriter(
  ctx: CliContext,
  isTty: boolean,
  logger?: Logger,
): { update: (line: string) => void; done: () => void } {
  let shown = false;
  let last = 0;
  const interval = isTty ? 100 : 3000;
  return {
    update: (line) => {
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      if (!isTty) {
        logger?.info("progress", { status: line });
        return;
      }
      ctx.stderr(`\r\x1b[K${line}`);
      shown = true;
    },
    done: () => {
      if (shown) ctx.stderr("\r\x1b[K");
      shown = false;
    },
  };
}

export function opsContext(
  session: ClusterSession,
  logger: Logger,
  signal: AbortSignal,
  progress: (line: string) => void,
  observe: (event: OpsEvent) => void = () => {},
): OpsContext {
  return {
    api: session.api,
    logger,
    signal,
    progress,
    emit: (event) => {
      logger.debug(event.type, { ...event });
      observe(event);
    },
  };
}
