import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { VerifyReport } from "../../ops/verify/verify.ts";
import { renderVerify, verifyProblem } from "./verify.ts";

const check = (vm: string, signal: string, ok: boolean, shown: string, expected: string) => ({
  vm,
  workload: vm.split("-")[1] ?? "",
  role: "",
  phase: "Running",
  signal,
  metric: "m",
  unit: "bytes/s" as const,
  min: 1,
  ok,
  shown,
  expected,
});

const report: VerifyReport = {
  namespace: "perf",
  runId: "r-1",
  prometheus: { url: "http://127.0.0.1:9090", source: "--prometheus-url" },
  results: [
    check("virtwork-cpu-0", "vcpu", true, "1.90 cores", "≥ 0.20 cores"),
    check("virtwork-disk-0", "disk-write", false, "0 B/s", "≥ 1.0 MiB/s"),
    check("virtwork-disk-0", "disk-write-iops", false, "no data", "≥ 10.0 ops/s"),
  ],
  unchecked: [{ vm: "virtwork-web-0", workload: "web" }],
  ok: false,
  rounds: 1,
  elapsedSeconds: 0,
};

describe("verify rendering", () => {
  it("prints one row per VM and signal with ✓/✗, and the VMs it could not check", () => {
    const text = renderVerify(report);
    const rows = text.split("\n").filter((l) => l.startsWith("virtwork-"));
    assert.equal(rows.length, 4);
    assert.match(rows[0] ?? "", /^virtwork-cpu-0\s+cpu\s+-\s+vcpu\s+1\.90 cores\s+≥ 0\.20 cores\s+✓$/);
    assert.match(rows[1] ?? "", /disk-write\s+0 B\/s\s+≥ 1\.0 MiB\/s\s+✗$/);
    assert.match(text, /virtwork-web-0 \(web\): no signals declared, not checked/);
    assert.match(text, /1\/3 signals present/);
  });

  it("the error line names each VM once with what is missing; none when all pass", () => {
    assert.equal(
      verifyProblem(report),
      "Error: signal missing from 1 VM: virtwork-disk-0 (disk-write 0 B/s, expected ≥ 1.0 MiB/s; disk-write-iops no data, expected ≥ 10.0 ops/s)\n",
    );
    assert.equal(verifyProblem({ ...report, results: [report.results[0] as never] }), undefined);
  });
});
