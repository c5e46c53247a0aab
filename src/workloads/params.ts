import { didYouMean } from "../util/suggest.ts";
import type { ParamSpec, ParamType } from "./types.ts";

/** A user-supplied value and where it came from, for error messages that name the field. */
export interface SourcedValue {
  value: string;
  /** e.g. `--params cpu.cpu-load-percent`, `VIRTWORK_PARAMS`, `virtwork.yaml: workloads.cpu.params.x` */
  source: string;
}

const INTEGER = /^[+-]?\d+$/;

/** The type rule of the reference (§3.0); returns what is wrong, or undefined. */
export function checkType(type: ParamType, value: string): string | undefined {
  switch (type) {
    case "string":
      return value === "" ? "must not be empty" : undefined;
    case "int":
      return INTEGER.test(value) ? undefined : "must be an integer";
    case "bool":
      return /^(true|false)$/i.test(value) ? undefined : 'must be "true" or "false"';
    case "list":
      return value.split(";").some((item) => item === "")
        ? "must be a ;-separated list with no empty items"
        : undefined;
    case "dict":
      return value.split(";").some((item) => item === "" || !item.includes("="))
        ? "must be ;-separated key=value pairs"
        : undefined;
  }
}

/**
 * Checks the user's params against a workload's schema and fills in defaults.
 * Every problem is reported, each naming its source and field.
 */
export function resolveParams(
  workload: string,
  schema: readonly ParamSpec[],
  given: Readonly<Record<string, SourcedValue>>,
): { params: Record<string, string>; problems: string[] } {
  const problems: string[] = [];
  const byName = new Map(schema.map((p) => [p.name, p]));
  for (const [key, { source }] of Object.entries(given)) {
    if (!byName.has(key)) {
      const known = schema.map((p) => p.name);
      problems.push(
        `${source}: unknown param "${key}" for workload "${workload}"${didYouMean(key, known)}; ` +
          `known params: ${known.length ? known.join(", ") : "none"}`,
      );
    }
  }
  const params: Record<string, string> = {};
  for (const spec of schema) {
    const supplied = given[spec.name];
    if (supplied === undefined) {
      params[spec.name] = spec.default;
      continue;
    }
    // `cpu-load-percent=` is a value forgotten, not a request for the default.
    if (supplied.value === "") {
      problems.push(
        `${supplied.source}: value "" is empty; give a value, or leave the param out for its default (${JSON.stringify(spec.default)})`,
      );
      params[spec.name] = spec.default;
      continue;
    }
    const problem = checkType(spec.type, supplied.value) ?? spec.check?.(supplied.value);
    if (problem) {
      problems.push(`${supplied.source}: value ${JSON.stringify(supplied.value)} ${problem}`);
    }
    // Integers travel in plain decimal: the guest's bash reads `08` or `010` as octal.
    params[spec.name] = spec.type === "int" && !problem ? BigInt(supplied.value).toString() : supplied.value;
  }
  return { params, problems };
}

// Reusable extra rules. Param values end up in unit files and scripts, so anything that is
// not plainly numeric is held to a pattern: no quoting games in the guest.

export function intRange(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => string | undefined {
  return (value) => {
    const n = Number(value);
    if (n < min || n > max) {
      return max === Number.MAX_SAFE_INTEGER
        ? `must be at least ${min}`
        : `must be between ${min} and ${max}`;
    }
    return undefined;
  };
}

export function matches(pattern: RegExp, hint: string): (value: string) => string | undefined {
  return (value) => (pattern.test(value) ? undefined : `must be ${hint}`);
}

/** A fixed list the tool itself defines (stress-ng methods, fio engines, signals). */
export function oneOfValues(values: readonly string[], what: string): (value: string) => string | undefined {
  return (value) =>
    values.includes(value)
      ? undefined
      : `must be ${what}${didYouMean(value, values)}: one of ${values.join(", ")}`;
}
