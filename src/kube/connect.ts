import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { UsageError } from "../errors.ts";

export interface ConnectionSettings {
  kubeconfig?: string;
  context?: string;
  env: Record<string, string | undefined>;
}

export interface Connection {
  kubeConfig: KubeConfig;
  /** The context used, or "in-cluster". */
  contextName: string;
  server: string;
  /** Where the configuration came from, for messages. */
  source: string;
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * The kubeconfig chain of kubectl: --kubeconfig (or VIRTWORK_KUBECONFIG), then KUBECONFIG
 * (several paths, merged), then ~/.kube/config, then the in-cluster service account.
 * When none exists it says so; it never falls back to a default local address.
 * The client library is imported here, lazily, so commands that need no cluster never load it.
 */
export async function connect(settings: ConnectionSettings): Promise<Connection> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  let source: string;
  const load = (path: string, field: string) => {
    if (!existsSync(path)) throw new UsageError(`${field}: kubeconfig file ${path} does not exist`);
    try {
      const partial = new KubeConfig();
      partial.loadFromFile(path);
      kc.mergeConfig(partial, kc.currentContext !== "");
      if (!kc.currentContext) kc.currentContext = partial.currentContext;
    } catch (err) {
      throw new UsageError(
        `${field}: cannot read kubeconfig ${path}: ${(err as Error).message.split("\n")[0]}`,
      );
    }
  };
  const envPaths = (settings.env.KUBECONFIG ?? "").split(delimiter).filter((p) => p !== "");
  const home = join(settings.env.HOME ?? homedir(), ".kube", "config");
  if (settings.kubeconfig) {
    load(settings.kubeconfig, "--kubeconfig");
    source = settings.kubeconfig;
  } else if (envPaths.length) {
    const present = envPaths.filter((p) => existsSync(p));
    if (!present.length) throw new UsageError(`KUBECONFIG: none of ${envPaths.join(", ")} exists`);
    for (const p of present) load(p, "KUBECONFIG");
    source = `KUBECONFIG (${present.join(delimiter)})`;
  } else if (existsSync(home)) {
    load(home, "~/.kube/config");
    source = home;
  } else if (settings.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kc.loadFromCluster();
    source = "in-cluster service account";
  } else {
    throw new UsageError(
      "no cluster configuration found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config (e.g. oc login), or run inside a pod with a service account",
    );
  }

  if (settings.context) {
    if (!kc.getContextObject(settings.context)) {
      const names = kc.getContexts().map((c) => c.name);
      throw new UsageError(
        `--context: context "${settings.context}" is not in ${source}; available: ${names.join(", ") || "none"}`,
      );
    }
    kc.setCurrentContext(settings.context);
  }
  if (source !== "in-cluster service account" && !kc.getContextObject(kc.getCurrentContext())) {
    throw new UsageError(
      `${source}: no current context; pass --context (available: ${
        kc
          .getContexts()
          .map((c) => c.name)
          .join(", ") || "none"
      })`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server)
    throw new UsageError(`${source}: context "${kc.getCurrentContext()}" names no cluster server`);
  return {
    kubeConfig: kc,
    contextName: source === "in-cluster service account" ? "in-cluster" : kc.getCurrentContext(),
    server: cluster.server,
    source,
  };
}
