import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { UsageError } from "../errors.ts";
import { mergeKubeconfigs, validateContext } from "./kubeconfig.ts";

export interface ConnectionSettings {
  kubeconfig?: string;
  context?: string;
  /** Where `kubeconfig` came from, for messages (default `--kubeconfig`). */
  kubeconfigField?: string;
  /** Where `context` came from, for messages (default `--context`). */
  contextField?: string;
  env: Record<string, string | undefined>;
}

export interface Connection {
  kubeConfig: KubeConfig;
  /** The context used, or "in-cluster". */
  contextName: string;
  server: string;
  /** Where the configuration came from, for messages. */
  source: string;
  /** A token file to re-read (kubeconfig token-file), instead of a token read once. */
  tokenFile?: string;
  /** Credentials that can change while we run (exec plugin, auth provider, token file). */
  dynamicAuth: boolean;
  /** Proxy settings for the agent (Node's proxyEnv): kubeconfig proxy-url, else HTTPS_PROXY/NO_PROXY. */
  proxyEnv?: Record<string, string>;
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * The kubeconfig chain of kubectl: --kubeconfig (or VIRTWORK_KUBECONFIG), then KUBECONFIG
 * (several paths, merged with kubectl's rules: the first value wins), then ~/.kube/config, then
 * the in-cluster service account. The chosen context is checked before any request
 * (kubeconfig.ts): missing files, bad URLs and missing exec plugins are bad input.
 * When none exists it says so; it never falls back to a default local address.
 * The client library is imported here, lazily, so commands that need no cluster never load it.
 */
export async function connect(settings: ConnectionSettings): Promise<Connection> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  const exists = (path: string, field: string) => {
    if (!existsSync(path)) throw new UsageError(`${field}: kubeconfig file ${path} does not exist`);
    return path;
  };
  const envPaths = (settings.env.KUBECONFIG ?? "").split(delimiter).filter((p) => p !== "");
  const home = join(settings.env.HOME ?? homedir(), ".kube", "config");
  let files: string[];
  let field: string;
  let source: string;
  if (settings.kubeconfig) {
    field = settings.kubeconfigField ?? "--kubeconfig";
    files = [exists(settings.kubeconfig, field)];
    source = settings.kubeconfig;
  } else if (envPaths.length) {
    files = envPaths.filter((p) => existsSync(p));
    if (!files.length) throw new UsageError(`KUBECONFIG: none of ${envPaths.join(", ")} exists`);
    field = "KUBECONFIG";
    source = `KUBECONFIG (${files.join(delimiter)})`;
  } else if (existsSync(home)) {
    files = [home];
    field = "~/.kube/config";
    source = home;
  } else if (settings.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kc.loadFromCluster();
    const server = kc.getCurrentCluster()?.server ?? "";
    return {
      kubeConfig: kc,
      contextName: "in-cluster",
      server,
      source: "in-cluster service account",
      dynamicAuth: true,
      ...proxyFor(server, undefined, settings.env),
    };
  } else {
    throw new UsageError(
      "no cluster configuration found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config (e.g. oc login), or run inside a pod with a service account",
    );
  }

  const merged = mergeKubeconfigs(files, field);
  const contextNames = merged.contexts.map((c) => c.name);
  let contextName: string;
  if (settings.context) {
    if (!contextNames.includes(settings.context)) {
      throw new UsageError(
        `${settings.contextField ?? "--context"}: context "${settings.context}" is not in ${source}; available: ${contextNames.join(", ") || "none"}`,
      );
    }
    contextName = settings.context;
  } else if (merged.currentContext && contextNames.includes(merged.currentContext)) {
    contextName = merged.currentContext;
  } else {
    throw new UsageError(
      `${source}: no current context; pass --context (available: ${contextNames.join(", ") || "none"})`,
    );
  }
  const { cluster, user, context } = validateContext(merged, contextName, settings.env);
  const c = cluster.value;
  const u = user?.value ?? {};
  kc.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: c.server ?? "",
        // (a plain-http server, e.g. behind a local proxy, has no TLS to verify)
        skipTLSVerify: c["insecure-skip-tls-verify"] === true || (c.server ?? "").startsWith("http:"),
        ...(c["certificate-authority"] ? { caFile: c["certificate-authority"] } : {}),
        ...(c["certificate-authority-data"] ? { caData: c["certificate-authority-data"] } : {}),
        ...(c["tls-server-name"] ? { tlsServerName: c["tls-server-name"] } : {}),
        ...(c["proxy-url"] ? { proxyUrl: c["proxy-url"] } : {}),
      },
    ],
    users: [
      {
        name: user?.name ?? "",
        ...(u.token ? { token: u.token } : {}),
        ...(u["client-certificate"] ? { certFile: u["client-certificate"] } : {}),
        ...(u["client-certificate-data"] ? { certData: u["client-certificate-data"] } : {}),
        ...(u["client-key"] ? { keyFile: u["client-key"] } : {}),
        ...(u["client-key-data"] ? { keyData: u["client-key-data"] } : {}),
        ...(u.exec ? { exec: u.exec } : {}),
        ...(u["auth-provider"] ? { authProvider: u["auth-provider"] } : {}),
        ...(u.username ? { username: u.username } : {}),
        ...(u.password ? { password: u.password } : {}),
        ...(u.as ? { impersonateUser: u.as } : {}),
      },
    ],
    contexts: [
      {
        name: contextName,
        cluster: cluster.name,
        user: user?.name ?? "",
        ...(context.value.namespace ? { namespace: context.value.namespace } : {}),
      },
    ],
    currentContext: contextName,
  });
  const tokenFile = u.token ? undefined : u["token-file"];
  return {
    kubeConfig: kc,
    contextName,
    server: c.server ?? "",
    source,
    ...(tokenFile ? { tokenFile } : {}),
    dynamicAuth: Boolean(tokenFile || u.exec || u["auth-provider"]),
    ...proxyFor(c.server ?? "", c["proxy-url"], settings.env),
  };
}

/**
 * The proxy the requests go through, as kubectl picks it: the cluster's proxy-url, else
 * HTTPS_PROXY / HTTP_PROXY with NO_PROXY (either case); never for a loopback server.
 */
export function proxyFor(
  server: string,
  proxyUrl: string | undefined,
  env: Record<string, string | undefined>,
): { proxyEnv?: Record<string, string> } {
  if (proxyUrl) return { proxyEnv: { HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl } };
  let host = "";
  try {
    host = new URL(server).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return {};
  }
  if (host === "localhost" || /^127\./.test(host) || host === "::1") return {};
  const pick = (name: string) => env[name] ?? env[name.toLowerCase()];
  const proxyEnv: Record<string, string> = {};
  for (const name of ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"]) {
    const v = pick(name);
    if (v) proxyEnv[name] = v;
  }
  return proxyEnv.HTTPS_PROXY || proxyEnv.HTTP_PROXY ? { proxyEnv } : {};
}
