import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { parse } from "yaml";
import { MAX_KUBECONFIG_BYTES, readTextFile } from "../util/text-file.ts";

export const POD_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

export interface NamespaceLookup {
  kubeconfig?: string;
  context?: string;
  env: Record<string, string | undefined>;
  readFile?: (path: string) => string;
  exists?: (path: string) => boolean;
}

interface KubeconfigFile {
  "current-context"?: string;
  contexts?: { name?: string; context?: { namespace?: string } }[];
}

/**
 * The namespace kubectl would use when none is given: the kubeconfig context's (the current one,
 * or --context), else, inside a pod, the service account's namespace file. Reads the same
 * kubeconfig chain as connect() (--kubeconfig, KUBECONFIG merged first-wins, ~/.kube/config)
 * with a plain YAML parse, so a dry run pays for no client library. Undefined when none is set;
 * a file that cannot be read is left for connect() to report.
 */
export function contextNamespace(lookup: NamespaceLookup): { namespace: string; source: string } | undefined {
  const read = lookup.readFile ?? ((p: string) => readTextFile(p, MAX_KUBECONFIG_BYTES));
  const exists = lookup.exists ?? existsSync;
  const envPaths = (lookup.env.KUBECONFIG ?? "").split(delimiter).filter((p) => p !== "");
  const home = join(lookup.env.HOME ?? homedir(), ".kube", "config");
  const paths = lookup.kubeconfig ? [lookup.kubeconfig] : envPaths.length ? envPaths : [home];
  let current: string | undefined;
  const contexts = new Map<string, string | undefined>();
  let found = false;
  for (const path of paths) {
    if (!exists(path)) continue;
    let doc: KubeconfigFile;
    try {
      doc = (parse(read(path)) ?? {}) as KubeconfigFile;
    } catch {
      continue;
    }
    found = true;
    current ??= doc["current-context"] || undefined;
    for (const c of doc.contexts ?? []) {
      if (c.name && !contexts.has(c.name)) contexts.set(c.name, c.context?.namespace || undefined);
    }
  }
  const name = lookup.context ?? current;
  const namespace = name ? contexts.get(name) : undefined;
  if (namespace) return { namespace, source: `kubeconfig context ${name}` };
  if (!found && lookup.env.KUBERNETES_SERVICE_HOST && exists(POD_NAMESPACE_FILE)) {
    try {
      const podNamespace = read(POD_NAMESPACE_FILE).trim();
      if (podNamespace)
        return { namespace: podNamespace, source: `the pod's namespace (${POD_NAMESPACE_FILE})` };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
