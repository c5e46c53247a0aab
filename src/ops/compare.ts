import type { KubeResource } from "../kube/api.ts";
import { APP, LABEL_MANAGED_BY, LABEL_RUN_ID } from "../manifests/labels.ts";
import type { KubeObject } from "../manifests/objects.ts";

/** What a planned object found in the cluster under its name is. */
export type Existing =
  | { state: "foreign"; problem: string }
  | { state: "different"; runId?: string; differences: string[] }
  | { state: "same"; runId?: string };

type Json = unknown;

function show(v: Json): string {
  if (v === undefined) return "(absent)";
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Every place where `planned` sets a value that `live` does not have: fields the API server
 * or a webhook adds (defaults, status) are not differences, fields the plan sets and the
 * cluster holds otherwise are. Arrays must match element by element.
 */
export function subsetDifferences(planned: Json, live: Json, path: string, out: string[]): void {
  if (Array.isArray(planned)) {
    if (!Array.isArray(live) || live.length !== planned.length) {
      out.push(`${path}: cluster has ${show(live)}, plan has ${show(planned)}`);
      return;
    }
    planned.forEach((p, i) => {
      subsetDifferences(p, live[i], `${path}[${i}]`, out);
    });
    return;
  }
  if (planned !== null && typeof planned === "object") {
    if (live === null || typeof live !== "object" || Array.isArray(live)) {
      out.push(`${path}: cluster has ${show(live)}, plan has ${show(planned)}`);
      return;
    }
    for (const [k, v] of Object.entries(planned)) {
      if (v === undefined) continue;
      subsetDifferences(v, (live as Record<string, Json>)[k], path ? `${path}.${k}` : k, out);
    }
    return;
  }
  if (planned !== live) out.push(`${path}: cluster has ${show(live)}, plan has ${show(planned)}`);
}

/** `obj` without the run-id label anywhere (it names the run, so it differs between runs by design). */
function withoutRunId(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutRunId);
  if (value !== null && typeof value === "object") {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "labels" && v && typeof v === "object") {
        const { [LABEL_RUN_ID]: _run, ...rest } = v as Record<string, string>;
        out[k] = rest;
      } else out[k] = withoutRunId(v);
    }
    return out;
  }
  return value;
}

/** How the object found under a planned name relates to the plan. */
export function compareExisting(planned: KubeObject, live: KubeResource & Record<string, Json>): Existing {
  const labels = live.metadata?.labels ?? {};
  const ref = `${planned.kind}/${planned.metadata?.name}`;
  if (labels[LABEL_MANAGED_BY] !== APP) {
    return {
      state: "foreign",
      problem: `${ref} exists and is not virtwork's (it lacks the label ${LABEL_MANAGED_BY}=${APP}); virtwork never adopts or modifies it: delete or rename it, or run in another namespace`,
    };
  }
  const runId = labels[LABEL_RUN_ID];
  const differences: string[] = [];
  const { [LABEL_RUN_ID]: _run, ...plannedLabels } = planned.metadata?.labels ?? {};
  subsetDifferences(plannedLabels, labels, "metadata.labels", differences);
  if (planned.kind === "Secret") {
    if (planned.type !== undefined && planned.type !== live.type)
      differences.push(`type: cluster has ${show(live.type)}, plan has ${show(planned.type)}`);
    const data = (live.data ?? {}) as Record<string, string>;
    for (const [key, value] of Object.entries(planned.stringData ?? {})) {
      const have = data[key] === undefined ? undefined : Buffer.from(data[key], "base64").toString("utf8");
      if (have !== value) differences.push(`data.${key}: the cluster's content differs from the plan's`);
    }
  } else if (planned.kind === "Service" || planned.kind === "VirtualMachine") {
    subsetDifferences(withoutRunId(planned.spec), live.spec, "spec", differences);
  }
  return differences.length
    ? { state: "different", ...(runId ? { runId } : {}), differences }
    : { state: "same", ...(runId ? { runId } : {}) };
}
