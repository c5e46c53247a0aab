import { didYouMean } from "../../util/suggest.ts";
import {
  SIGNAL_KINDS,
  SIGNAL_UNITS,
  type Signal,
  type SignalKind,
  type SignalUnit,
  signalProblem,
} from "../signals.ts";
import { type FieldPath, show } from "./problems.ts";

/** What parseSignals needs of manifest.ts's Checker (structural: no import cycle). */
export interface Checker {
  add(path: FieldPath, message: string): void;
  fields(
    value: unknown,
    path: FieldPath,
    allowed: string[],
  ): Map<string, { value: unknown; path: FieldPath }> | undefined;
  list(value: unknown, path: FieldPath, what: string): unknown[];
  string(value: unknown, path: FieldPath): string | undefined;
}

const SIGNAL_KEYS = [
  "name",
  "description",
  "kind",
  "metric",
  "of",
  "labels",
  "min",
  "unit",
  "roles",
  "window",
];

/**
 * `signals:` of a catalog workload.yaml: what `virtwork verify` checks for its VMs, in the
 * built-ins' shape (src/workloads/signals.ts), e.g.
 *
 *   signals:
 *     - {name: http-tx, kind: rate, metric: kubevirt_vmi_network_transmit_bytes_total, min: 10240, unit: bytes/s, roles: [server]}
 */
export function parseSignals(
  c: Checker,
  raw: unknown,
  path: FieldPath,
  roles: ReadonlySet<string>,
): Signal[] {
  const out: Signal[] = [];
  const names = new Set<string>();
  for (const [i, item] of c.list(raw, path, "signals ({name, kind, metric, min, unit})").entries()) {
    const at = [...path, i];
    const f = c.fields(item, at, SIGNAL_KEYS);
    if (!f) continue;
    const get = (k: string) => f.get(k)?.value;
    const where = (k: string) => f.get(k)?.path ?? [...at, k];
    const name = c.string(get("name"), where("name"));
    const metric = c.string(get("metric"), where("metric"));
    const kind = get("kind") ?? "rate";
    if (!SIGNAL_KINDS.includes(kind as SignalKind)) {
      c.add(
        where("kind"),
        `must be one of ${SIGNAL_KINDS.join(", ")}${didYouMean(String(kind), SIGNAL_KINDS)}`,
      );
      continue;
    }
    const unit = get("unit");
    if (!SIGNAL_UNITS.includes(unit as SignalUnit)) {
      c.add(where("unit"), `must be one of ${SIGNAL_UNITS.join(", ")}, got ${show(unit)}`);
      continue;
    }
    const min = get("min");
    if (typeof min !== "number") {
      c.add(where("min"), `must be a number (the least value that counts as the signal), got ${show(min)}`);
      continue;
    }
    if (name === undefined || metric === undefined) continue;
    const signal: Signal = {
      name,
      description: typeof get("description") === "string" ? String(get("description")) : name,
      kind: kind as SignalKind,
      metric,
      min,
      unit: unit as SignalUnit,
    };
    if (get("of") !== undefined) signal.of = String(get("of"));
    if (get("window") !== undefined) signal.window = String(get("window"));
    const labels = get("labels");
    if (labels !== undefined) {
      if (labels === null || typeof labels !== "object" || Array.isArray(labels)) {
        c.add(where("labels"), `must be a map of label: value, got ${show(labels)}`);
        continue;
      }
      signal.labels = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
    }
    const rawRoles = get("roles");
    if (rawRoles !== undefined) {
      const list = c.list(rawRoles, where("roles"), "role names");
      const bad = list.filter((r) => typeof r !== "string" || !roles.has(r));
      if (bad.length) {
        c.add(
          where("roles"),
          `${show(bad[0])} is not a declared role; roles: ${[...roles].join(", ") || "none"}`,
        );
        continue;
      }
      signal.roles = list as string[];
    }
    const problem = signalProblem(signal);
    if (problem) {
      c.add(at, problem);
      continue;
    }
    if (names.has(name)) c.add(where("name"), `duplicate signal ${show(name)}`);
    names.add(name);
    out.push(signal);
  }
  return out;
}
