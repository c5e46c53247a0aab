/**
 * The cluster benchmark's detection lag (scripts/bench-lag.mjs): measured from the simulator's
 * Running time to virtwork's own observation, never negative — a negative lag or a missing
 * input is reported as an invalid measurement instead of a (met) verdict.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
// @ts-expect-error: a plain .mjs script without types
import { detectionLag } from "../../scripts/bench-lag.mjs";

const vms = ["a", "b", "c"];
const base = {
  vms,
  waitStart: 1000,
  running: new Map([
    ["a", 1100],
    ["b", 1200],
    ["c", 1500],
  ]),
  seen: new Map([
    ["a", 1150],
    ["b", 1260],
    ["c", 1530],
  ]),
  exitAt: 1700,
};

test("lags from the simulator's Running time to virtwork's observation", () => {
  const r = detectionLag(base);
  assert.equal(r.valid, true, r.problems.join("; "));
  assert.deepEqual(r.lags, [50, 60, 30]);
  assert.equal(r.median, 50);
  assert.equal(r.lastVm, "c");
  assert.equal(r.lagSeen, 30); // max seen 1530 − max running 1500
  assert.equal(r.lagExit, 200);
});

test("the API server's share and what is left for virtwork, when another observer saw it first", () => {
  const firstSeen = new Map([
    ["a", 1140],
    ["b", 1250],
    ["c", 1520],
  ]);
  const r = detectionLag({ ...base, firstSeen });
  assert.equal(r.split, 3);
  assert.equal(r.apiShareMedian, 40); // 40, 50, 20
  assert.equal(r.afterApiMedian, 10); // 10, 10, 10
});

test("a VM seen before it was sent Running makes the measurement invalid", () => {
  const r = detectionLag({ ...base, seen: new Map([...base.seen, ["b", 1190]]) });
  assert.equal(r.valid, false);
  assert.match(
    r.problems.join("; "),
    /1 VM\(s\) seen by virtwork before the simulator sent Running \(e\.g\. b: -10 ms\)/,
  );
});

test("an exit before the last Running is invalid", () => {
  const r = detectionLag({ ...base, exitAt: 1400 });
  assert.equal(r.valid, false);
  assert.match(r.problems.join("; "), /exited 100 ms before the last VM was sent Running/);
});

test("missing inputs are invalid, and named", () => {
  const r = detectionLag({ ...base, running: new Map([["a", 1100]]), waitStart: Number.NaN });
  assert.equal(r.valid, false);
  assert.match(r.problems.join("; "), /2 VM\(s\) without the simulator's Running time/);
  assert.match(r.problems.join("; "), /no 'waiting for VMs to be running' line/);
});

test("nothing going Running during the wait measures nothing: invalid", () => {
  const r = detectionLag({ ...base, waitStart: 2000 });
  assert.equal(r.valid, false);
  assert.match(r.problems.join("; "), /no VM went Running while virtwork waited/);
});
