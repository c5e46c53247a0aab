/**
 * A token bucket: `qps` requests per second on average, bursts of up to `burst` — that adapts to
 * the server. When the API server pushes back (429 from API Priority and Fairness or a
 * max-in-flight limit), `throttled()` holds every request, not only the one that was refused,
 * until its Retry-After, and halves the rate; the rate grows back to `qps` over ten seconds
 * without further 429s (additive increase, multiplicative decrease).
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly now: () => number;
  private queue: Promise<void> = Promise.resolve();
  /** Fraction of `qps` allowed now (1 = full rate). */
  private factor = 1;
  private pausedUntil = 0;

  constructor(qps: number, burst: number, now: () => number = () => performance.now()) {
    this.qps = qps;
    this.burst = Math.max(1, burst);
    this.tokens = this.burst;
    this.now = now;
    this.last = now();
  }

  /** The rate allowed now, requests per second. */
  get currentQps(): number {
    return this.qps * this.factor;
  }

  /** The server refused a request with 429: hold everyone for `retryAfterMs`, halve the rate. */
  throttled(retryAfterMs: number): void {
    const now = this.now();
    this.pausedUntil = Math.max(this.pausedUntil, now + Math.min(retryAfterMs, 60_000));
    this.factor = Math.max(0.05, this.factor / 2);
    this.tokens = Math.min(this.tokens, 1);
  }

  /**
   * Resolves when a request may be sent; callers are served in order. An aborted `signal`
   * rejects at once (with its reason) and its turn takes no token.
   */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => (signal?.aborted ? undefined : this.waitForToken(signal)));
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

  private async waitForToken(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) return;
      const now = this.now();
      const elapsed = (now - this.last) / 1000;
      this.last = now;
      if (now < this.pausedUntil) {
        await new Promise((r) => setTimeout(r, Math.ceil(this.pausedUntil - now)));
        continue;
      }
      this.factor = Math.min(1, this.factor + elapsed * 0.1);
      const rate = this.qps * this.factor;
      this.tokens = Math.min(this.burst, this.tokens + elapsed * rate);
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / rate) * 1000)));
    }
  }
}
