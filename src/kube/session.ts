import type { Logger } from "../log/logger.ts";
import type { KubeApi } from "./api.ts";
import type { KubeClient } from "./client.ts";
import { qualifiedName } from "./resources.ts";

/** The connection of one command: the client with its retry hooks, and the API over it. */
export interface ClusterSession {
  api: KubeApi;
  client: KubeClient;
  contextName: string;
  close(): void;
}

/** An API call about to be retried, as the session reports it. */
export interface RetryNotice {
  verb: string;
  resource: string;
  name?: string;
  attempt: number;
  delayMs: number;
  error: string;
}

export interface SessionSettings {
  kubeconfig?: string;
  context?: string;
  /** Where each came from (`--context`, `VIRTWORK_CONTEXT`, `config file …: context`), for messages. */
  sources?: { kubeconfig?: string; context?: string };
  qps: number;
  burst: number;
}

/** Connects with the kubeconfig chain, --context, and the configured rate limit. */
export async function openSession(
  settings: SessionSettings,
  env: Record<string, string | undefined>,
  logger: Logger,
  onRetry: (notice: RetryNotice) => void = () => {},
): Promise<ClusterSession> {
  // Loaded here, not at start-up: node:http/https and the kube client cost milliseconds that
  // --help and --dry-run should not pay.
  const [{ connect }, { KubeClient }, { KubeApi }] = await Promise.all([
    import("./connect.ts"),
    import("./client.ts"),
    import("./api.ts"),
  ]);
  const connection = await connect({
    ...(settings.kubeconfig ? { kubeconfig: settings.kubeconfig } : {}),
    ...(settings.context ? { context: settings.context } : {}),
    ...(settings.sources?.kubeconfig ? { kubeconfigField: settings.sources.kubeconfig } : {}),
    ...(settings.sources?.context ? { contextField: settings.sources.context } : {}),
    env,
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
      onRetry({
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
