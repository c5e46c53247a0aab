/**
 * How fast this machine is right now, for the booted-guest suite: one time scale for every
 * fixed wait (the accelerator's factor × how overloaded the host is at that moment), and a gate
 * that boots guests only as fast as the cores and the current load allow.
 */
import { availableParallelism, loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

let accelSlow = 1;

/** Set once the accelerator is known (4 under TCG, 1 with KVM). */
export function setAccelSlow(slow: number): void {
  accelSlow = slow;
}

/** Host load per core, at least 1: 2.0 means every core has two runnable tasks. */
export function overload(): number {
  return Math.min(4, Math.max(1, (loadavg()[0] ?? 0) / availableParallelism()));
}

/** The factor for a fixed time limit, taken when the wait starts. */
export function scale(): number {
  return accelSlow * overload();
}

export interface BootTarget {
  target: number;
  why: string;
}

/**
 * How many guests may run at once now. A TCG guest keeps about one host core busy while it
 * boots, so the budget is 1.5 guests per core (3 on 2 cores, what a quiet CI machine runs
 * well), minus the load that is not ours (the 1-minute load average less the guests we run),
 * at least 1. VIRTWORK_GUEST_PARALLEL fixes it.
 */
export function bootTarget(running: number): BootTarget {
  const fixed = Number(process.env.VIRTWORK_GUEST_PARALLEL);
  if (Number.isInteger(fixed) && fixed > 0) return { target: fixed, why: `VIRTWORK_GUEST_PARALLEL=${fixed}` };
  const cores = availableParallelism();
  const load = loadavg()[0] ?? 0;
  const budget = Math.max(1, Math.floor(cores * 1.5));
  const others = Math.max(0, load - running);
  const target = Math.max(1, Math.min(budget, Math.floor(budget - others + 0.5)));
  return {
    target,
    why: `${cores} cores → budget ${budget}; load ${load.toFixed(1)} of which ~${others.toFixed(1)} not our guests`,
  };
}

/**
 * Admits guests while fewer than bootTarget() run, one admission at least `spacingMs` after the
 * previous one (the load average needs time to show a new guest). A request larger than the
 * target is admitted when nothing else runs, so a two-VM case never waits forever.
 */
export class BootGate {
  private running = 0;
  private lastAdmit = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly spacingMs: number;

  constructor(spacingMs = 15_000) {
    this.spacingMs = spacingMs;
  }

  /** Resolves with a release function and the decision that admitted it. */
  acquire(vms: number): Promise<{ release: () => void; why: string }> {
    const turn = this.queue.then(async () => {
      for (;;) {
        const t = bootTarget(this.running);
        const spaced = Date.now() - this.lastAdmit >= this.spacingMs;
        if (spaced && (this.running + vms <= t.target || this.running === 0)) {
          this.running += vms;
          this.lastAdmit = Date.now();
          let released = false;
          return {
            release: () => {
              if (!released) this.running -= vms;
              released = true;
            },
            why: `${this.running} guest(s) now running, target ${t.target} (${t.why})`,
          };
        }
        await sleep(2000);
      }
    });
    // The next request waits for this one to be admitted (first come, first served).
    this.queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }
}
