import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { soakCheck, soakResults, stepTimes } from "./soak.ts";
import type { VerifyPlan } from "./targets.ts";

const W = { start: 1000, end: 1100, stepSeconds: 10, maxGapSeconds: 20 };
const every = (from: number, to: number, v = 5): [number, number][] =>
  stepTimes({ ...W, start: from, end: to }).map((t) => [t, v]);

describe("verify --for / --since: a signal over a window", () => {
  it("continuous: full coverage, no gap, its spread", () => {
    const s = soakCheck(every(1000, 1100), 1, W);
    assert.equal(s.steps, 11);
    assert.equal(s.present, 11);
    assert.equal(s.coverage, 1);
    assert.equal(s.longestGapSeconds, 0);
    assert.equal(s.longestGapAt, undefined);
    assert.deepEqual([s.low, s.median, s.high], [5, 5, 5]);
  });
  it("a hole and a dip under the threshold: both count as missing, the longest run is the gap", () => {
    const points = [
      ...every(1000, 1020),
      // 1030 and 1040 absent (a systemd restart), 1050 under the threshold
      [1050, 0.5],
      ...every(1060, 1100),
    ] as [number, number][];
    const s = soakCheck(points, 1, W);
    assert.equal(s.present, 8);
    assert.equal(s.longestGapSeconds, 30);
    assert.equal(s.longestGapAt, new Date(1030 * 1000).toISOString());
    assert.equal(s.low, 0.5);
    assert.equal(s.high, 5);
  });
  it("a verdict that can fail: past --max-gap is not ok, named with its coverage and gap", () => {
    const check = (name: string) => ({
      vm: {
        namespace: "ns",
        runId: "r",
        name,
        workload: "cpu",
        role: "",
        phase: "Running",
        node: "",
        ip: "",
        createdAt: "",
      },
      signal: {
        name: "vcpu",
        description: "vCPU time",
        metric: "m",
        kind: "rate" as const,
        min: 1,
        unit: "cores" as const,
      },
    });
    const plan: VerifyPlan = { checks: [check("cpu-0"), check("cpu-1")], queries: [], unchecked: [] };
    const series = new Map([
      [
        "cpu\0vcpu",
        new Map([
          ["cpu-0", every(1000, 1100)],
          ["cpu-1", [...every(1000, 1020), ...every(1060, 1100)]],
        ]),
      ],
    ]);
    const [a, b] = soakResults(plan, series, W);
    assert.equal(a?.ok, true);
    assert.equal(a?.shown, "100%, no gap");
    assert.equal(b?.ok, false);
    assert.equal(b?.longestGapSeconds, 30);
    assert.match(b?.shown ?? "", /^72\.7%, longest gap 30s at 00:17:10Z$/);
    assert.equal(b?.expected, "≥ 1.00 cores, gaps ≤ 20s");
    // no data at all is never ok
    const [none] = soakResults(plan, new Map(), W);
    assert.equal(none?.ok, false);
    assert.equal(none?.shown, "no data in the window");
  });
});
