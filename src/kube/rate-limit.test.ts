import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RateLimiter } from "./rate-limit.ts";

describe("the rate limiter", () => {
  it("serves a burst at once, then paces at qps", async () => {
    const limiter = new RateLimiter(20, 5);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await limiter.take();
    assert.ok(performance.now() - t0 < 50, "the burst is not delayed");
    for (let i = 0; i < 4; i++) await limiter.take();
    // 4 more at 20/s: about 200 ms (generous bounds for a loaded machine)
    const ms = performance.now() - t0;
    assert.ok(ms >= 150, `paced: ${ms} ms`);
  });

  it("a 429 holds every caller for Retry-After and halves the rate, which then recovers", async () => {
    const limiter = new RateLimiter(100, 100);
    await limiter.take();
    limiter.throttled(300);
    assert.equal(limiter.currentQps, 50);
    const t0 = performance.now();
    await Promise.all([limiter.take(), limiter.take()]);
    assert.ok(performance.now() - t0 >= 280, "held until Retry-After");
    await new Promise((r) => setTimeout(r, 1000));
    await limiter.take();
    assert.ok(limiter.currentQps > 50, `recovering: ${limiter.currentQps}`);
  });

  it("an aborted caller rejects at once", async () => {
    const limiter = new RateLimiter(1, 1);
    await limiter.take();
    const ac = new AbortController();
    const p = limiter.take(ac.signal);
    ac.abort(new Error("stop"));
    await assert.rejects(p, /stop/);
  });
});
