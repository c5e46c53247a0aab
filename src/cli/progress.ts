import type { LogFormat, Logger } from "../log/logger.ts";
import type { StatusReporter, StepEnd } from "../ops/context.ts";
import type { Screen } from "./screen.ts";

/** What each step of run and cleanup is called on the screen (kind's "Ensuring node image"). */
const STEP_LABELS: Record<string, string> = {
  preflight: "Checking the cluster for KubeVirt and CDI",
  namespace: "Ensuring the namespace",
  "existing objects": "Checking for objects already there",
  services: "Creating services",
  secrets: "Creating secrets",
  "virtual machines": "Creating virtual machines",
  wait: "Waiting for the VMs to run",
  select: "Finding virtwork's objects",
  delete: "Deleting objects",
  "wait until gone": "Waiting until they are gone",
  "delete namespace": "Deleting the namespace",
};
/** Count keys in words: cleanup counts by kind. */
const COUNT_WORDS: Record<string, string> = {
  wouldCreate: "would be created (server dry run)",
  vms: "VirtualMachines",
  dataVolumes: "DataVolumes",
  pvcs: "PersistentVolumeClaims",
  services: "Services",
  secrets: "Secrets",
};
const QUIET_STEPS = new Set(["preview", "confirm"]);
const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

function seconds(ms: number): string {
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)}s`
    : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** The counts of a finished step in words: "3 created, 1 already present", "8/8 running". */
export function describeCounts(counts: Record<string, number> | undefined): string {
  if (!counts) return "";
  const { running, existing, ...rest } = counts;
  const parts: string[] = [];
  // The wait: "5/8 running" (vms is its total there, not a count of its own).
  if (running !== undefined) {
    parts.push(rest.vms !== undefined ? `${running}/${rest.vms} running` : `${running} running`);
    delete rest.vms;
  }
  for (const [k, n] of Object.entries(rest))
    if (n || k === "created" || k === "wouldCreate" || k === "deleted")
      parts.push(`${n} ${COUNT_WORDS[k] ?? k}`);
  if (existing) parts.push(`${existing} already present`);
  return parts.join(", ");
}

/** One finished step: ` ✓ Creating services: 3 created (0.2s)`. */
export function stepLine(step: string, end: StepEnd): string {
  const label = STEP_LABELS[step] ?? step;
  // A thrown error is printed once, as the command's "Error: …" line; the step only says it failed.
  const what = end.ok ? describeCounts(end.counts) : end.threw ? "failed" : (end.error ?? "failed");
  return ` ${end.ok ? "✓" : "✗"} ${label}${what ? `: ${what}` : ""} (${seconds(end.ms)})`;
}

/**
 * The status of an operation on stderr, kind style: one line per step with ✓/✗ and its time.
 * On a terminal the running step is a live line (spinner, its progress, elapsed time); without
 * one, progress is a plain line at most every few seconds, and the last one is always flushed
 * before the step's end. With JSON logs, steps and progress are log records.
 */
export function terminalStatus(screen: Screen, format: LogFormat, logger: Logger): StatusReporter {
  let step = "";
  let startedAt = 0;
  let latest = "";
  let printed = "";
  let lastPrint = 0;
  let frame = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const interval = screen.tty ? 100 : 5000;
  const text = format === "text";

  const render = () => {
    const label = STEP_LABELS[step] ?? step;
    // The wait reports its own elapsed time against the deadline.
    const elapsed = step === "wait" && latest ? "" : ` (${seconds(Date.now() - startedAt)})`;
    screen.live(` ${SPINNER[frame++ % SPINNER.length]} ${label}${latest ? `: ${latest}` : ""}${elapsed}`);
  };
  const print = (line: string) => {
    printed = line;
    lastPrint = Date.now();
    if (text) screen.line(`   ${STEP_LABELS[step] ?? step}: ${line}`);
    else logger.info("progress", { step, status: line });
  };
  const stopTicker = () => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
  };
  return {
    stepStarted: (name) => {
      step = name;
      startedAt = Date.now();
      latest = printed = "";
      lastPrint = startedAt;
      if (QUIET_STEPS.has(name) || !screen.tty) return;
      render();
      ticker = setInterval(render, 250);
      ticker.unref?.();
    },
    progress: (line) => {
      latest = line;
      if (screen.tty) return;
      if (Date.now() - lastPrint >= interval) print(line);
    },
    stepEnded: (name, end) => {
      stopTicker();
      screen.clear();
      if (QUIET_STEPS.has(name)) return;
      // The last progress count is never lost, even when it fell inside the throttle window.
      if (!screen.tty && latest && latest !== printed) print(latest);
      if (text) screen.line(stepLine(name, end));
      else
        logger.info("step", {
          step: name,
          ok: end.ok,
          ms: end.ms,
          ...end.counts,
          ...(end.error && !end.threw ? { error: end.error } : {}),
        });
      latest = "";
    },
    done: () => {
      stopTicker();
      screen.clear();
    },
  };
}
