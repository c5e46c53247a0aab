import { UsageError } from "../errors.ts";

export interface ParamAssignment {
  workload: string;
  key: string;
  value: string;
}

// A comma starts a new pair only when what follows looks like `workload.key=` (or `key=`),
// so values may contain commas: `redis-bench.test-mode=set,get` stays one pair.
const NEXT_QUALIFIED_PAIR = /,(?=\s*[A-Za-z0-9][A-Za-z0-9_-]*\.[^=,\s]+=)/;
const NEXT_PAIR = /,(?=\s*[A-Za-z0-9][A-Za-z0-9_.-]*=)/;

/**
 * Parses `workload.key=value[,workload.key=value…]` (`--params`, `VIRTWORK_PARAMS`).
 * The workload is before the first dot, the key before the first `=`; the value is the rest.
 */
export function parseQualifiedParams(text: string, source: string): ParamAssignment[] {
  return text
    .split(NEXT_QUALIFIED_PAIR)
    .map((piece) => piece.trim())
    .filter((piece) => piece !== "")
    .map((piece) => {
      const dot = piece.indexOf(".");
      const eq = piece.indexOf("=");
      if (dot < 0 || (eq >= 0 && eq < dot)) {
        throw new UsageError(
          `${source}: missing workload prefix in "${piece}" (expected workload.key=value, e.g. cpu.cpu-load-percent=50)`,
        );
      }
      const workload = piece.slice(0, dot).trim();
      if (workload === "")
        throw new UsageError(`${source}: empty workload name in "${piece}" (expected workload.key=value)`);
      const rest = piece.slice(dot + 1);
      const restEq = rest.indexOf("=");
      if (restEq < 0)
        throw new UsageError(`${source}: missing '=' in "${piece}" (expected workload.key=value)`);
      const key = rest.slice(0, restEq).trim();
      if (key === "")
        throw new UsageError(`${source}: empty param key in "${piece}" (expected workload.key=value)`);
      return { workload, key, value: rest.slice(restEq + 1).trim() };
    });
}

/** Parses `key=value[,key=value…]` (per-workload env such as VIRTWORK_WORKLOAD_CPU_PARAMS). */
export function parseParams(text: string, source: string): { key: string; value: string }[] {
  return text
    .split(NEXT_PAIR)
    .map((piece) => piece.trim())
    .filter((piece) => piece !== "")
    .map((piece) => {
      const eq = piece.indexOf("=");
      if (eq < 0) throw new UsageError(`${source}: missing '=' in "${piece}" (expected key=value)`);
      const key = piece.slice(0, eq).trim();
      if (key === "") throw new UsageError(`${source}: empty param key in "${piece}" (expected key=value)`);
      return { key, value: piece.slice(eq + 1).trim() };
    });
}

/** Parses `--set workload.field=value`. */
export function parseSetting(text: string): { workload: string; field: string; value: string } {
  const match = /^\s*([^.=\s]+)\.([^=\s]+)\s*=(.*)$/.exec(text);
  if (!match) {
    throw new UsageError(
      `--set: "${text}" must look like workload.field=value (e.g. cpu.vm-count=3 or database.enabled=false)`,
    );
  }
  return { workload: match[1] ?? "", field: match[2] ?? "", value: (match[3] ?? "").trim() };
}
