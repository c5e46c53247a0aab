/**
 * Who virtwork is to the API server, as the kubeconfig says (client-go's rules, without a client
 * library): a static token, a token file re-read every minute, basic auth, or an exec credential
 * plugin (client.authentication.k8s.io ExecCredential). The plugin runs without a terminal,
 * bounded by EXEC_TIMEOUT_MS, and its answer is cached until its expirationTimestamp or a 401.
 * Any failure is one line naming the kubeconfig field, the plugin and what it printed on stderr.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";

/** A credential that cannot be had: a plugin that fails, hangs or prints nonsense, an unreadable token file. */
export class CredentialError extends Error {
  override name = "CredentialError";
}

/** How long an exec plugin may take before it is killed (kubectl has no bound: a hung plugin hangs it). */
export const EXEC_TIMEOUT_MS = 30_000;
/** A token file is read again after this long, as client-go does. */
const TOKEN_FILE_REREAD_MS = 60_000;
const MAX_PLUGIN_OUTPUT = 1024 * 1024;

export interface ExecPlugin {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  /** What the plugin is told about the cluster when provideClusterInfo is set. */
  cluster?: Record<string, unknown>;
  /** The kubeconfig field, for messages: `FILE: users[name=u].user.exec`. */
  where: string;
  installHint?: string;
}

export type CredentialSource =
  | { type: "none" }
  | { type: "token"; token: string }
  | { type: "tokenFile"; path: string; where: string }
  | { type: "basic"; username: string; password: string }
  | { type: "exec"; plugin: ExecPlugin };

/** What a request carries: the Authorization header and, from a plugin, a client certificate. */
export interface Credential {
  authorization?: string;
  cert?: string;
  key?: string;
}

interface Cached {
  credential: Credential;
  /** ms since the epoch after which it must be asked for again */
  until: number;
}

export class Credentials {
  readonly source: CredentialSource;
  /** Impersonate-User / Impersonate-Group headers (kubeconfig `as`, `as-groups`). */
  readonly headers: Record<string, string | string[]>;
  private cached: Cached | undefined;
  private pending: Promise<Credential> | undefined;
  private readonly env: Record<string, string | undefined>;
  private readonly execTimeoutMs: number;

  constructor(
    source: CredentialSource,
    headers: Record<string, string | string[]> = {},
    env: Record<string, string | undefined> = process.env,
    execTimeoutMs = EXEC_TIMEOUT_MS,
  ) {
    this.source = source;
    this.headers = headers;
    this.env = env;
    this.execTimeoutMs = execTimeoutMs;
  }

  /** Whether the credential can change while virtwork runs (worth asking again after a 401). */
  get dynamic(): boolean {
    return this.source.type === "tokenFile" || this.source.type === "exec";
  }

  /** The current credential; concurrent callers share one plugin run. */
  async get(): Promise<Credential> {
    if (this.cached && Date.now() < this.cached.until) return this.cached.credential;
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** The server answered 401: ask again next time (a rotated token file, an expired plugin token). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async fetch(): Promise<Credential> {
    const s = this.source;
    switch (s.type) {
      case "none":
        return this.keep({}, Number.POSITIVE_INFINITY);
      case "token":
        return this.keep({ authorization: `Bearer ${s.token}` }, Number.POSITIVE_INFINITY);
      case "basic":
        return this.keep(
          { authorization: `Basic ${Buffer.from(`${s.username}:${s.password}`).toString("base64")}` },
          Number.POSITIVE_INFINITY,
        );
      case "tokenFile": {
        let token: string;
        try {
          token = (await readFile(s.path, "utf8")).trim();
        } catch (err) {
          throw new CredentialError(
            `${s.where}: cannot read token file ${s.path}: ${(err as Error).message}`,
          );
        }
        if (!token) throw new CredentialError(`${s.where}: token file ${s.path} is empty`);
        return this.keep({ authorization: `Bearer ${token}` }, Date.now() + TOKEN_FILE_REREAD_MS);
      }
      case "exec": {
        const { credential, expires } = await runExecPlugin(s.plugin, this.env, this.execTimeoutMs);
        return this.keep(credential, expires ?? Number.POSITIVE_INFINITY);
      }
    }
  }

  private keep(credential: Credential, until: number): Credential {
    this.cached = { credential, until };
    return credential;
  }
}

function tail(text: string): string {
  const lines = text.trim().split("\n").filter(Boolean);
  const last = lines.slice(-2).join(" / ").trim();
  return last.length > 300 ? `${last.slice(0, 300)}…` : last;
}

/**
 * Runs the plugin as client-go does (KUBERNETES_EXEC_INFO, the kubeconfig's env entries, no
 * terminal) and reads its ExecCredential. Killed (its whole process group) after EXEC_TIMEOUT_MS.
 */
function runExecPlugin(
  plugin: ExecPlugin,
  env: Record<string, string | undefined>,
  timeoutMs = EXEC_TIMEOUT_MS,
): Promise<{ credential: Credential; expires?: number }> {
  const name = `exec plugin "${plugin.command}"`;
  const info = {
    apiVersion: plugin.apiVersion,
    kind: "ExecCredential",
    spec: { interactive: false, ...(plugin.cluster ? { cluster: plugin.cluster } : {}) },
  };
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  for (const e of plugin.env) childEnv[e.name] = e.value;
  childEnv.KUBERNETES_EXEC_INFO = JSON.stringify(info);
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new CredentialError(`${plugin.where}: ${name} ${why}`));
    };
    const child = spawn(plugin.command, plugin.args, {
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const timer = setTimeout(() => {
      kill();
      fail(
        `did not finish within ${timeoutMs / 1000}s and was stopped${stderr.trim() ? ` (stderr: ${tail(stderr)})` : ""}; run it by hand to see what it waits for (virtwork runs it without a terminal: log in first)`,
      );
    }, timeoutMs);
    timer.unref?.();
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (c: string) => {
      stdout += c;
      if (stdout.length > MAX_PLUGIN_OUTPUT) {
        kill();
        fail(`printed more than ${MAX_PLUGIN_OUTPUT} bytes; an ExecCredential is a small JSON object`);
      }
    });
    child.stderr.on("data", (c: string) => {
      if (stderr.length < 64 * 1024) stderr += c;
    });
    child.on("error", (err) => fail(`could not be started: ${err.message}`));
    child.on("close", (code, signal) => {
      if (settled) return;
      if (code !== 0) {
        const hint = plugin.installHint ? ` (${tail(plugin.installHint)})` : "";
        return fail(
          `${signal ? `was killed by ${signal}` : `exited ${code}`}${stderr.trim() ? `: ${tail(stderr)}` : " and printed nothing on stderr"}${hint}`,
        );
      }
      let parsed: {
        apiVersion?: string;
        kind?: string;
        status?: {
          token?: string;
          clientCertificateData?: string;
          clientKeyData?: string;
          expirationTimestamp?: string;
        };
      };
      try {
        parsed = JSON.parse(stdout);
      } catch {
        return fail(
          `did not print an ExecCredential (not JSON: ${JSON.stringify(stdout.trim().slice(0, 80))})${stderr.trim() ? `; stderr: ${tail(stderr)}` : ""}`,
        );
      }
      if (parsed?.kind !== "ExecCredential")
        return fail(`printed a ${parsed?.kind ?? "document without kind"}, not an ExecCredential`);
      if (parsed.apiVersion !== plugin.apiVersion)
        return fail(
          `answered with apiVersion ${parsed.apiVersion ?? "(none)"}, but the kubeconfig asks for ${plugin.apiVersion}`,
        );
      const st = parsed.status ?? {};
      const credential: Credential = {};
      if (st.token) credential.authorization = `Bearer ${st.token}`;
      if (st.clientCertificateData || st.clientKeyData) {
        if (!st.clientCertificateData || !st.clientKeyData)
          return fail("printed only one of status.clientCertificateData and status.clientKeyData");
        credential.cert = st.clientCertificateData;
        credential.key = st.clientKeyData;
      }
      if (!credential.authorization && !credential.cert)
        return fail("printed an ExecCredential with neither status.token nor a client certificate");
      let expires: number | undefined;
      if (st.expirationTimestamp) {
        expires = Date.parse(st.expirationTimestamp);
        if (Number.isNaN(expires))
          return fail(`printed status.expirationTimestamp "${st.expirationTimestamp}", not an RFC 3339 time`);
      }
      settled = true;
      clearTimeout(timer);
      resolve({ credential, ...(expires !== undefined ? { expires } : {}) });
    });
  });
}
