import type { ParamType } from "../types.ts";

/**
 * What a catalog param value may be. Values are pasted into unit files, often inside a
 * `bash -c '…'` script, where systemd and then the shell read them. Instead of guessing how
 * each placeholder is quoted, every string value is held to characters that mean nothing
 * to either of them — unquoted, in single quotes or in double quotes — so no value can end
 * a quote, start a command, expand a variable or a systemd specifier, or split a word:
 * letters, digits and `. _ : / @ + = , -` (not first, so it is never read as an option).
 * An entry's `enum` or `pattern` narrows this; it never widens it.
 */
export const SAFE_VALUE = /^[A-Za-z0-9._:/@+=,][A-Za-z0-9._:/@+=,-]*$/;
export const SAFE_VALUE_HINT = "letters, digits and . _ : / @ + = , - (not starting with -)";
/** Longest string value; list and dict values hold up to MAX_LIST_LENGTH in all. */
export const MAX_STRING_LENGTH = 256;
export const MAX_LIST_LENGTH = 1024;
/** int params without min/max stay within what every consumer reads exactly. */
export const INT_LIMIT = Number.MAX_SAFE_INTEGER;

/** The constraints a catalog param may declare in workload.yaml. */
export interface ParamRules {
  type: ParamType;
  min?: number;
  max?: number;
  enum?: string[];
  /** Source text of the pattern, as written (matched against the whole value). */
  pattern?: string;
}

/** A string value outside the safe character set, or too long: what is wrong. */
export function unsafeValueProblem(value: string, max = MAX_STRING_LENGTH): string | undefined {
  if (value.length > max) return `is ${value.length} characters long; at most ${max} allowed`;
  if (!SAFE_VALUE.test(value)) return `may hold only ${SAFE_VALUE_HINT}`;
  return undefined;
}

/** `^(?:pattern)$`: a pattern always matches the whole value. */
export function compilePattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/**
 * The check of one catalog param: its type's rule is applied before (checkType), this adds
 * the declared range, enum or pattern and the safe character set. Returns what is wrong.
 */
export function paramCheck(rules: ParamRules): (value: string) => string | undefined {
  const pattern = rules.pattern === undefined ? undefined : compilePattern(rules.pattern);
  return (value) => {
    switch (rules.type) {
      case "int": {
        const n = Number(value);
        const min = rules.min ?? -INT_LIMIT;
        const max = rules.max ?? INT_LIMIT;
        if (n < min || n > max) return `must be between ${min} and ${max}`;
        return undefined;
      }
      case "bool":
        return undefined;
      case "string": {
        if (rules.enum !== undefined) {
          return rules.enum.includes(value) ? undefined : `must be one of ${rules.enum.join(", ")}`;
        }
        const unsafe = unsafeValueProblem(value);
        if (unsafe) return unsafe;
        if (pattern && !pattern.test(value)) return `must match the pattern ${rules.pattern}`;
        return undefined;
      }
      case "list":
      case "dict": {
        if (value.length > MAX_LIST_LENGTH)
          return `is ${value.length} characters long; at most ${MAX_LIST_LENGTH} allowed`;
        // The `;` between items is what a shell would run as a new command: the unit must
        // quote these placeholders ("{{key}}"), which the entry loader checks.
        for (const item of value.split(";")) {
          const unsafe = unsafeValueProblem(item);
          if (unsafe) return `item "${item}" ${unsafe}`;
        }
        return undefined;
      }
    }
  };
}
