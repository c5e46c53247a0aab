/**
 * SIGINT, SIGTERM and SIGHUP, handled from the first line of the CLI (entry.ts installs this
 * before the rest of the CLI loads; bin/virtwork holds signals that arrive even earlier):
 *
 * - `run` and `cleanup` (mode "stop"): the first signal aborts `signal`; the steps stop
 *   starting new work, report what exists and exit 130. A second signal runs the registered
 *   last words (the audit's "cancelled") for at most a few seconds, then exits 130 at once.
 * - every other command (mode "exit"): a signal exits 130 at once.
 *
 * When bin/virtwork runs the CLI in a child process (the Node on PATH is older than 22.12) it
 * forwards every signal; a Ctrl-C on a terminal then reaches the child twice (from the
 * terminal and from the launcher), so with _VIRTWORK_LAUNCHED set (by the launcher) the same signal repeated
 * within REPEAT_MS counts once.
 */
import { ExitCode } from "../errors.ts";

export const HANDLED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const REPEAT_MS = 500;
const LAST_WORDS_MS = 3000;

interface State {
  controller: AbortController;
  mode: "pending" | "stop" | "exit";
  count: number;
  last?: { name: string; at: number };
  lastWords: Set<() => Promise<void>>;
  warn: (message: string) => void;
}

let state: State | undefined;

const EARLY = Symbol.for("virtwork.earlySignals");
type Early = { signals: string[]; listener: (name: string) => void };

function exitNow(): void {
  process.exit(ExitCode.interrupted);
}

async function lastWordsThenExit(s: State): Promise<void> {
  const hooks = [...s.lastWords];
  s.lastWords.clear();
  await Promise.race([
    Promise.allSettled(hooks.map((h) => h())),
    new Promise((r) => setTimeout(r, LAST_WORDS_MS).unref()),
  ]);
  exitNow();
}

function onSignal(name: string): void {
  const s = state as State;
  const now = Date.now();
  if (process.env._VIRTWORK_LAUNCHED && s.last?.name === name && now - s.last.at < REPEAT_MS) return;
  s.last = { name, at: now };
  s.count++;
  if (s.mode === "exit") {
    exitNow();
    return;
  }
  if (s.count === 1) {
    s.warn(`${name} received: stopping; press Ctrl-C again to exit at once`);
    s.controller.abort(new Error(`interrupted by ${name}`));
    return;
  }
  s.warn(`${name} received again: exiting now`);
  void lastWordsThenExit(s);
}

/** Installs the handlers (once per process) and replays signals the launcher held. */
export function installSignalHandlers(): void {
  if (state) return;
  state = {
    controller: new AbortController(),
    mode: "pending",
    count: 0,
    lastWords: new Set(),
    warn: (message) => process.stderr.write(`Warning: ${message}\n`),
  };
  for (const name of HANDLED_SIGNALS) process.on(name, onSignal);
  const early = (globalThis as Record<symbol, Early | undefined>)[EARLY];
  if (early) {
    for (const name of HANDLED_SIGNALS) process.off(name, early.listener);
    for (const name of early.signals) onSignal(name);
    delete (globalThis as Record<symbol, Early | undefined>)[EARLY];
  }
}

/** Set by the command that runs: "stop" for run/cleanup, "exit" for the rest. */
export function setSignalMode(mode: "stop" | "exit"): void {
  installSignalHandlers();
  const s = state as State;
  s.mode = mode;
  if (mode === "exit" && s.count > 0) exitNow();
}

/** The process-wide signal of run/cleanup; `warn` takes over the messages (the command's logger). */
export function processSignals(warn?: (message: string) => void): {
  signal: AbortSignal;
  interrupted: () => boolean;
  /** Runs on a second signal, before the process exits; returns a remover. */
  onSecondSignal: (fn: () => Promise<void>) => () => void;
} {
  installSignalHandlers();
  const s = state as State;
  if (warn) s.warn = warn;
  return {
    signal: s.controller.signal,
    interrupted: () => s.controller.signal.aborted,
    onSecondSignal: (fn) => {
      s.lastWords.add(fn);
      return () => s.lastWords.delete(fn);
    },
  };
}

/** Whether a signal came (the CLI's exit code is then 130, whatever the command ended with). */
export function wasInterrupted(): boolean {
  return (state?.count ?? 0) > 0;
}

/**
 * The signal of one operation (run, cleanup): the process-wide one, with the messages going
 * to `logger`. `onSecondSignal` hooks run before a second signal exits the process.
 */
export function interruptible(logger: { warn: (msg: string) => void }): {
  signal: AbortSignal;
  interrupted: () => boolean;
  onSecondSignal: (fn: () => Promise<void>) => () => void;
  dispose: () => void;
} {
  return { ...processSignals((message) => logger.warn(message)), dispose: () => {} };
}
