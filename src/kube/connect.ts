import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { readTextFile } from "../util/text-file.ts";
import { type CredentialSource, Credentials, EXEC_TIMEOUT_MS } from "./credentials.ts";
import { mergeKubeconfigs, type RawCluster, type RawUser, validateContext } from "./kubeconfig.ts";

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
  /** The context used, or "in-cluster". */
  contextName: string;
  server: string;
  /** Where the configuration came from, for messages. */
  source: string;
  /** How the server's certificate is checked, and the client certificate (PEM), if any. */
  tls: TlsSettings;
  /** Who virtwork is: token, token file, basic auth or exec plugin, and impersonation. */
  credentials: Credentials;
  /** Proxy settings for the agent (Node's proxyEnv): kubeconfig proxy-url, else HTTPS_PROXY/NO_PROXY. */
  proxyEnv?: Record<string, string>;
}

export interface TlsSettings {
  /** PEM of the CA that signs the server's certificate (else the system's CAs). */
  ca?: string;
  cert?: string;
  key?: string;
  /** false: insecure-skip-tls-verify (or a plain-http server). */
  verify: boolean;
  /** tls-server-name: the name the certificate must carry, when not the server's host. */
  servername?: string;
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const SERVICE_ACCOUNT_TOKEN = `${SERVICE_ACCOUNT_DIR}/token`;

/**
 * The kubeconfig chain of kubectl: --kubeconfig (or VIRTWORK_KUBECONFIG), then KUBECONFIG
 * (several paths, merged with kubectl's rules: the first value wins), then ~/.kube/config, then
 * the in-cluster service account. The chosen context is checked before any request
 * (kubeconfig.ts): missing files, bad URLs and missing exec plugins are bad input.
 * When none exists it says so; it never falls back to a default local address.
 * No client library: the fields are read here, the credentials in credentials.ts.
 */
export async function connect(settings: ConnectionSettings): Promise<Connection> {
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
    return inCluster(settings.env);
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
  const { cluster, user } = validateContext(merged, contextName, settings.env);
  const c = cluster.value;
  const u = user?.value ?? {};
  const server = c.server ?? "";
  const uwhere = user ? `${user.file}: users[name=${user.name}].user` : "";
  const cwhere = `${cluster.file}: clusters[name=${cluster.name}].cluster`;
  const tls: TlsSettings = {
    verify: c["insecure-skip-tls-verify"] !== true && !server.startsWith("http:"),
    ...pem(
      "ca",
      c["certificate-authority"],
      c["certificate-authority-data"],
      `${cwhere}.certificate-authority`,
    ),
    ...pem("cert", u["client-certificate"], u["client-certificate-data"], `${uwhere}.client-certificate`),
    ...pem("key", u["client-key"], u["client-key-data"], `${uwhere}.client-key`),
    ...(c["tls-server-name"] ? { servername: c["tls-server-name"] } : {}),
  };
  const headers: Record<string, string | string[]> = {};
  if (u.as) headers["Impersonate-User"] = u.as;
  if (u["as-groups"]?.length) headers["Impersonate-Group"] = u["as-groups"];
  return {
    contextName,
    server,
    source,
    tls,
    credentials: new Credentials(
      credentialSource(u, uwhere, user?.file, c, tls),
      headers,
      settings.env,
      execTimeoutMs(settings.env),
    ),
    ...proxyFor(server, c["proxy-url"], settings.env),
  };
}

/** VIRTWORK_EXEC_PLUGIN_TIMEOUT (seconds): how long a credential plugin may take (default 30). */
function execTimeoutMs(env: Record<string, string | undefined>): number {
  const raw = env.VIRTWORK_EXEC_PLUGIN_TIMEOUT;
  if (raw === undefined || raw === "") return EXEC_TIMEOUT_MS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600)
    throw new UsageError(
      `VIRTWORK_EXEC_PLUGIN_TIMEOUT: "${raw}" is not a number of seconds between 1 and 3600 (e.g. 60)`,
    );
  return seconds * 1000;
}

/** A PEM from its file or its base64 `-data` field (the data wins, as in client-go). */
function pem(
  key: "ca" | "cert" | "key",
  file: string | undefined,
  data: string | undefined,
  where: string,
): Partial<Record<"ca" | "cert" | "key", string>> {
  if (data) return { [key]: Buffer.from(data, "base64").toString("utf8") };
  if (!file) return {};
  try {
    return { [key]: readTextFile(file) };
  } catch (err) {
    throw new UsageError(`${where}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Which credential the kubeconfig user has, in client-go's order of precedence. */
function credentialSource(
  u: RawUser,
  where: string,
  file: string | undefined,
  c: RawCluster,
  tls: TlsSettings,
): CredentialSource {
  if (u.token) return { type: "token", token: u.token };
  if (u.tokenFile) return { type: "tokenFile", path: u.tokenFile, where: `${where}.tokenFile` };
  if (u.username || u.password)
    return { type: "basic", username: u.username ?? "", password: u.password ?? "" };
  const provider = u["auth-provider"];
  if (provider) {
    // kubectl keeps only oidc (gcp and azure were removed in 1.26); virtwork sends its id-token.
    const idToken = provider.name === "oidc" ? provider.config?.["id-token"] : undefined;
    if (idToken) return { type: "token", token: idToken };
    throw new UsageError(
      provider.name === "oidc"
        ? `${where}.auth-provider.config.id-token is missing: log in again (e.g. kubectl oidc-login), or use an exec plugin`
        : `${where}.auth-provider: "${provider.name ?? ""}" is not supported (kubectl removed it in 1.26); use its exec credential plugin (e.g. gke-gcloud-auth-plugin, kubelogin)`,
    );
  }
  const exec = u.exec;
  if (exec?.command) {
    const command =
      exec.command.includes("/") && !isAbsolute(exec.command) && file
        ? resolve(dirname(file), exec.command)
        : exec.command;
    return {
      type: "exec",
      plugin: {
        command,
        args: exec.args ?? [],
        env: exec.env ?? [],
        apiVersion: exec.apiVersion ?? "",
        where: `${where}.exec`,
        ...(typeof exec.installHint === "string" ? { installHint: exec.installHint } : {}),
        ...(exec.provideClusterInfo
          ? {
              cluster: {
                server: c.server,
                ...(c["tls-server-name"] ? { "tls-server-name": c["tls-server-name"] } : {}),
                ...(tls.ca ? { "certificate-authority-data": Buffer.from(tls.ca).toString("base64") } : {}),
                ...(c["insecure-skip-tls-verify"] ? { "insecure-skip-tls-verify": true } : {}),
                ...(c["proxy-url"] ? { "proxy-url": c["proxy-url"] } : {}),
              },
            }
          : {}),
      },
    };
  }
  return { type: "none" };
}

/** Inside a pod: the service account's token (re-read, it rotates) and CA, the service's address. */
function inCluster(env: Record<string, string | undefined>): Connection {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const caFile = `${SERVICE_ACCOUNT_DIR}/ca.crt`;
  return {
    contextName: "in-cluster",
    server,
    source: "in-cluster service account",
    tls: { verify: true, ...(existsSync(caFile) ? { ca: readFileSync(caFile, "utf8") } : {}) },
    credentials: new Credentials(
      { type: "tokenFile", path: SERVICE_ACCOUNT_TOKEN, where: "in-cluster service account" },
      {},
      env,
    ),
    ...proxyFor(server, undefined, env),
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
