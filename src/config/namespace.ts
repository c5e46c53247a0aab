import { contextNamespace } from "../kube/context-namespace.ts";
import { SETTINGS, type SettingName } from "./settings.ts";
import { ValueProblem } from "./values.ts";

/**
 * The namespace like kubectl: the layered setting (flag > VIRTWORK_NAMESPACE > config file) when
 * given, else the kubeconfig context's (the current one or --context), else the pod's
 * namespace inside a cluster, else `virtwork`. Records where it came from in `sources`.
 */
export function resolveNamespace(input: {
  layered: string;
  kubeconfig?: string;
  context?: string;
  env: Record<string, string | undefined>;
  readFile?: (path: string) => string;
  sources: Partial<Record<SettingName, string>>;
  problems: string[];
  lookup?: typeof contextNamespace;
}): string {
  if (input.sources.namespace !== "default") return input.layered;
  const found = (input.lookup ?? contextNamespace)({
    ...(input.kubeconfig !== undefined ? { kubeconfig: input.kubeconfig } : {}),
    ...(input.context !== undefined ? { context: input.context } : {}),
    env: input.env,
    ...(input.readFile ? { readFile: input.readFile } : {}),
  });
  if (!found) return input.layered;
  input.sources.namespace = found.source;
  try {
    return SETTINGS.namespace.parse(found.namespace);
  } catch (err) {
    if (!(err instanceof ValueProblem)) throw err;
    input.problems.push(`${found.source}: namespace ${err.message}; pass -n/--namespace`);
    return input.layered;
  }
}
