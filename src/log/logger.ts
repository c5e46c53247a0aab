/**
 * Logs on stderr, so stdout stays clean for data (`virtwork run --dry-run | kubectl apply -f -`).
 * Two formats: `json` (one object per line: time, level, msg, fields; for machines and CI) and
 * `text` (one readable line, for a person at a terminal). A small writer instead of pino keeps
 * the bundle and the start-up path lean.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const TEXT_PREFIX: Record<LogLevel, string> = {
  debug: "debug: ",
  info: "",
  warn: "Warning: ",
  error: "Error: ",
};

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function textValue(value: unknown): string {
  const text =
    typeof value === "string"
      ? value
      : Array.isArray(value) && value.every((v) => typeof v !== "object")
        ? value.join(",")
        : JSON.stringify(value);
  return /^[^\s"=]+$/.test(text ?? "") ? (text ?? "") : JSON.stringify(text);
}

/** One text line: `Warning: msg key=value key="a value"`. */
export function textLine(level: LogLevel, msg: string, fields?: Record<string, unknown>): string {
  const pairs = Object.entries(fields ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${textValue(v)}`);
  return `${TEXT_PREFIX[level]}${msg}${pairs.length ? ` ${pairs.join(" ")}` : ""}\n`;
}

export function createLogger(options: {
  level?: LogLevel;
  format?: LogFormat;
  write?: (line: string) => void;
  now?: () => Date;
}): Logger {
  const threshold = ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const text = options.format === "text";
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < threshold) return;
    write(
      text
        ? textLine(level, msg, fields)
        : `${JSON.stringify({ time: now().toISOString(), level, msg, ...fields })}\n`,
    );
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
