/** A token bucket: `qps` requests per second on average, bursts of up to `burst`. */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly now: () => number;
  private queue: Promise<void> = Promise.resolve();

  constructor(qps: number, burst: number, now: () => number = () => performance.now()) {
    this.qps = qps;
    this.burst = Math.max(1, burst);
    this.tokens = this.burst;
    this.now = now;
    this.last = now();
  }

  /**
   * Resolves when a request may be sent; callers are served in order. An aborted `signal`
   * rejects at once (with its reason) and its turn takes no token.
   */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => (signal?.aborted ? undefined : this.waitForToken()));
    this.queue = turn.catch(() => undefined);
    if (!signal) return turn;
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      turn.then(
        () => {
          signal.removeEventListener("abort", onAbort);
          if (signal.aborted) onAbort();
          else resolve();
        },
        (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        },
      );
    });
  }

  private async waitForToken(): Promise<void> {
    for (;;) {
      const now = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.qps) * 1000)));
    }
  }
}
