/**
 * Waiting on a booting guest by its progress instead of a fixed deadline: a loaded machine
 * makes a guest slow, not stuck. The wait goes on while the guest shows signs of life — its
 * serial console grows, the guest agent starts answering, or a sign the caller reads from the
 * guest changes (cloud-init's stage and log sizes) — and fails only when nothing has changed
 * for the stall period, or at a hard limit, with the last console lines of each guest.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Vm } from "./qemu.ts";

export interface ProgressWait<T> {
  /** What is awaited, for the failure message. */
  what: string;
  vms: Vm[];
  /** Fails after this long without any sign of progress. */
  stallSeconds: number;
  /** Fails after this long in any case. */
  hardSeconds: number;
  /** Returns the awaited value, or undefined to keep waiting (a throw also keeps waiting). */
  poll: () => Promise<T | undefined>;
  /** An extra progress sign read from a guest (e.g. cloud-init's stage); "" when unknown. */
  sign?: (vm: Vm) => Promise<string>;
  /** Told each time the extra sign of a guest changes. */
  onSign?: (vm: Vm, sign: string) => void;
  intervalMs?: number;
}

function signOf(vm: Vm): string {
  return `${vm.spec.name}:console=${vm.consoleBytes()}:agent=${vm.agent.answered ? "up" : "down"}`;
}

export async function untilProgress<T>(w: ProgressWait<T>): Promise<T> {
  const start = Date.now();
  let lastChange = start;
  let lastWhat = "start of the wait";
  let previous = "";
  const previousSign = new Map<Vm, string>();
  let lastError: unknown;
  for (;;) {
    try {
      const v = await w.poll();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    const parts: string[] = [];
    for (const vm of w.vms) {
      let extra = "";
      if (w.sign && vm.running) extra = await w.sign(vm).catch(() => "");
      if (extra && extra !== previousSign.get(vm)) {
        previousSign.set(vm, extra);
        w.onSign?.(vm, extra);
      }
      parts.push(`${signOf(vm)}:${previousSign.get(vm) ?? ""}`);
    }
    const now = Date.now();
    const current = parts.join(" ");
    if (current !== previous) {
      if (previous)
        lastWhat = `${describeChange(previous, current)} at +${((now - start) / 1000).toFixed(0)}s`;
      previous = current;
      lastChange = now;
    }
    const stalled = (now - lastChange) / 1000;
    const total = (now - start) / 1000;
    const dead = w.vms.filter((vm) => !vm.running).map((vm) => vm.spec.name);
    if (stalled > w.stallSeconds || total > w.hardSeconds || dead.length) {
      const why = dead.length
        ? `qemu of ${dead.join(", ")} exited`
        : stalled > w.stallSeconds
          ? `no progress for ${stalled.toFixed(0)}s (stall limit ${w.stallSeconds}s; last progress: ${lastWhat})`
          : `hard limit of ${w.hardSeconds}s reached although the guest kept progressing`;
      const consoles = w.vms
        .map((vm) => `--- ${vm.spec.name}: last console lines ---\n${vm.consoleTail(15)}`)
        .join("\n");
      throw new Error(
        `${w.what}: gave up after ${total.toFixed(0)}s: ${why}${lastError ? `; last poll error: ${(lastError as Error).message ?? lastError}` : ""}\n${consoles}`,
      );
    }
    await sleep(w.intervalMs ?? 3000);
  }
}

function describeChange(before: string, after: string): string {
  const a = before.split(" ");
  const b = after.split(" ");
  const changed = b.filter((x, i) => x !== a[i]);
  return changed.join(" ").slice(0, 300) || "unknown";
}
