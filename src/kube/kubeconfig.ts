/**
 * Kubeconfig files read like kubectl reads them: several files merge entry by entry, the first
 * file that names a cluster, user or context (or sets current-context) wins; relative paths are
 * relative to the file that holds them. The chosen context's cluster and user are checked before
 * any request: a missing certificate, key, CA or token file, a server or proxy URL that does not
 * parse, an exec plugin that is not installed — each is bad input naming the file and field.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";
import { UsageError } from "../errors.ts";
import { MAX_KUBECONFIG_BYTES, readTextFile } from "../util/text-file.ts";

export interface RawCluster {
  server?: string;
  "certificate-authority"?: string;
  "certificate-authority-data"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "tls-server-name"?: string;
  "proxy-url"?: string;
}
export interface RawExec {
  command?: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: string;
  [k: string]: unknown;
}
export interface RawUser {
  token?: string;
  /** client-go's field name (kubectl config set-credentials --token-file writes it). */
  tokenFile?: string;
  "client-certificate"?: string;
  "client-certificate-data"?: string;
  "client-key"?: string;
  "client-key-data"?: string;
  username?: string;
  password?: string;
  exec?: RawExec;
  "auth-provider"?: { name?: string; config?: Record<string, string> };
  as?: string;
  "as-groups"?: string[];
}
export interface RawContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

interface Entry<T> {
  name: string;
  value: T;
  /** The file that defined it. */
  file: string;
}

export interface MergedKubeconfig {
  clusters: Entry<RawCluster>[];
  users: Entry<RawUser>[];
  contexts: Entry<RawContext>[];
  currentContext?: string;
  files: string[];
}

const PATH_FIELDS = {
  cluster: ["certificate-authority"] as const,
  user: ["client-certificate", "client-key", "tokenFile"] as const,
};

function absolute(file: string, p: string | undefined): string | undefined {
  if (!p) return p;
  return isAbsolute(p) ? p : resolve(dirname(file), p);
}

/** Reads and merges kubeconfig files in order; `field` names where the list came from (for errors). */
export function mergeKubeconfigs(files: string[], field: string): MergedKubeconfig {
  const merged: MergedKubeconfig = { clusters: [], users: [], contexts: [], files };
  for (const file of files) {
    let doc: {
      clusters?: { name?: string; cluster?: RawCluster }[];
      users?: { name?: string; user?: RawUser }[];
      contexts?: { name?: string; context?: RawContext }[];
      "current-context"?: string;
    };
    try {
      doc = (parse(readTextFile(file, MAX_KUBECONFIG_BYTES)) ?? {}) as typeof doc;
    } catch (err) {
      throw new UsageError(
        `${field}: cannot read kubeconfig ${file}: ${(err as Error).message.split("\n")[0]}`,
      );
    }
    const add = <T extends object>(list: Entry<T>[], items: { name?: string }[] | undefined, key: string) => {
      for (const [i, item] of (items ?? []).entries()) {
        if (!item?.name) throw new UsageError(`${file}: ${key}s[${i}].name is missing`);
        if (list.some((e) => e.name === item.name)) continue; // first file wins, like kubectl
        const value = { ...((item as Record<string, unknown>)[key] ?? {}) } as T;
        list.push({ name: item.name, value, file });
      }
    };
    add(merged.clusters, doc.clusters, "cluster");
    add(merged.users, doc.users, "user");
    add(merged.contexts, doc.contexts, "context");
    if (!merged.currentContext && doc["current-context"]) merged.currentContext = doc["current-context"];
  }
  for (const c of merged.clusters)
    for (const f of PATH_FIELDS.cluster) c.value[f] = absolute(c.file, c.value[f]) as string;
  for (const u of merged.users)
    for (const f of PATH_FIELDS.user) u.value[f] = absolute(u.file, u.value[f]) as string;
  return merged;
}

/** Whether `command` can be run: a path that exists, or a name found on PATH. */
function findCommand(command: string, env: Record<string, string | undefined>, base: string): boolean {
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (command.includes("/")) return executable(isAbsolute(command) ? command : resolve(base, command));
  return (env.PATH ?? "").split(delimiter).some((dir) => dir && executable(join(dir, command)));
}

function checkUrl(value: string | undefined, where: string, what: string): void {
  if (value === undefined) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `${where}: "${value}" is not a valid URL (expected e.g. https://api.example.com:6443)`,
    );
  }
  if (
    url.protocol !== "https:" &&
    url.protocol !== "http:" &&
    !(what === "proxy-url" && url.protocol === "socks5:")
  )
    throw new UsageError(`${where}: "${value}" must start with https:// (or http://)`);
  if (what === "proxy-url" && url.protocol === "socks5:")
    throw new UsageError(`${where}: "${value}": SOCKS proxies are not supported; use an HTTP(S) proxy`);
}

/**
 * Checks what the chosen context uses, as bad input (exit 2) before any request: the cluster's
 * server and proxy URLs and CA file, the user's certificate, key and token files, its exec plugin.
 */
export function validateContext(
  merged: MergedKubeconfig,
  contextName: string,
  env: Record<string, string | undefined>,
): { cluster: Entry<RawCluster>; user: Entry<RawUser> | undefined; context: Entry<RawContext> } {
  const context = merged.contexts.find((c) => c.name === contextName);
  if (!context) throw new UsageError(`kubeconfig: context "${contextName}" is not defined`);
  const cluster = merged.clusters.find((c) => c.name === context.value.cluster);
  if (!cluster)
    throw new UsageError(
      `${context.file}: contexts[name=${contextName}].context.cluster: cluster "${context.value.cluster ?? ""}" is not defined in ${merged.files.join(", ")}`,
    );
  const cwhere = `${cluster.file}: clusters[name=${cluster.name}].cluster`;
  if (!cluster.value.server) throw new UsageError(`${cwhere}.server is missing`);
  checkUrl(cluster.value.server, `${cwhere}.server`, "server");
  checkUrl(cluster.value["proxy-url"], `${cwhere}.proxy-url`, "proxy-url");
  const ca = cluster.value["certificate-authority"];
  if (ca && !existsSync(ca))
    throw new UsageError(`${cwhere}.certificate-authority: file ${ca} does not exist`);
  const userName = context.value.user;
  const user = userName ? merged.users.find((u) => u.name === userName) : undefined;
  if (userName && !user)
    throw new UsageError(
      `${context.file}: contexts[name=${contextName}].context.user: user "${userName}" is not defined in ${merged.files.join(", ")}`,
    );
  if (user) {
    const uwhere = `${user.file}: users[name=${user.name}].user`;
    for (const f of PATH_FIELDS.user) {
      const p = user.value[f];
      if (p && !existsSync(p)) throw new UsageError(`${uwhere}.${f}: file ${p} does not exist`);
    }
    if ("token-file" in user.value)
      throw new UsageError(
        `${uwhere}.token-file is not a kubeconfig field: the token file's field is tokenFile`,
      );
    const tokenFile = user.value.tokenFile;
    if (tokenFile && !user.value.token) {
      let token = "";
      try {
        token = readTextFile(tokenFile).trim();
      } catch (err) {
        throw new UsageError(`${uwhere}.tokenFile: cannot read ${tokenFile}: ${(err as Error).message}`);
      }
      if (!token) throw new UsageError(`${uwhere}.tokenFile: ${tokenFile} is empty`);
    }
    const exec = user.value.exec;
    if (exec) {
      if (!exec.command) throw new UsageError(`${uwhere}.exec.command is missing`);
      if (!exec.apiVersion)
        throw new UsageError(
          `${uwhere}.exec.apiVersion is missing (e.g. client.authentication.k8s.io/v1, as the plugin's docs say)`,
        );
      if (exec.interactiveMode === "Always")
        throw new UsageError(
          `${uwhere}.exec.interactiveMode is Always, but virtwork runs credential plugins without a terminal: log in first, then set it to IfAvailable`,
        );
      if (!findCommand(exec.command, env, dirname(user.file)))
        throw new UsageError(
          `${uwhere}.exec.command: "${exec.command}" is not installed (not found${exec.command.includes("/") ? "" : " on PATH"}); install the credential plugin or log in again`,
        );
    }
  }
  return { cluster, user, context };
}
