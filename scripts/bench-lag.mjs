// Readiness-detection lag of the cluster benchmark (scripts/bench-cluster.mjs), kept pure so a
// unit test can feed it invalid inputs (test/unit/bench-lag.test.ts).
//
// Inputs, all wall-clock milliseconds on this machine:
//   running   Map VM name → when the simulator sent its Running status (nobody sees it earlier)
//   seen      Map VM name → when the benchmark received virtwork's `vm_running` line for it
//   exitAt    when virtwork's process exited
//   waitStart when the benchmark received virtwork's "waiting for VMs to be running" line
//   vms       the VM names virtwork reported
//   firstSeen optional Map VM name → the first observation of Running by another observer (the
//             simulator's patch response, this benchmark's idle watch): splits the lag into the
//             API server's share (sent → first observed, ≥ 0) and what is left for virtwork (two
//             observers of one event: this can be a few ms below 0, so it is information only)
// Lags: per VM (seen − running, for the VMs that went Running after waitStart), and for the
// last VM: all Running (max running) → virtwork saw them all (max seen) / exited.
// A missing input or a lag below 0 makes the measurement invalid: `problems` says why.

const pct = (values, p) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : Number.NaN;
};

export function detectionLag({ running, seen, exitAt, waitStart, vms, firstSeen = new Map() }) {
  const problems = [];
  const noRunning = vms.filter((v) => !Number.isFinite(running.get(v)));
  const noSeen = vms.filter((v) => !Number.isFinite(seen.get(v)));
  if (!vms.length) problems.push("virtwork reported no VMs");
  if (noRunning.length)
    problems.push(`${noRunning.length} VM(s) without the simulator's Running time (e.g. ${noRunning[0]})`);
  if (noSeen.length)
    problems.push(`${noSeen.length} VM(s) without virtwork's vm_running line (e.g. ${noSeen[0]})`);
  if (!Number.isFinite(exitAt)) problems.push("no exit time of virtwork");
  if (!Number.isFinite(waitStart)) problems.push("no 'waiting for VMs to be running' line from virtwork");
  if (problems.length) return { valid: false, problems };

  const perVm = [];
  for (const v of vms) {
    const r = running.get(v);
    if (r >= waitStart) perVm.push({ vm: v, lag: seen.get(v) - r });
  }
  const lastRunning = Math.max(...vms.map((v) => running.get(v)));
  const lastVm = vms.find((v) => running.get(v) === lastRunning);
  const sawAll = Math.max(...vms.map((v) => seen.get(v)));
  const lagSeen = sawAll - lastRunning;
  const lagExit = exitAt - lastRunning;
  const negative = perVm.filter((x) => x.lag < 0);
  if (negative.length)
    problems.push(
      `${negative.length} VM(s) seen by virtwork before the simulator sent Running (e.g. ${negative[0].vm}: ${negative[0].lag} ms): clocks or parsing are wrong`,
    );
  if (lagSeen < 0) problems.push(`virtwork saw every VM ${-lagSeen} ms before the last one was sent Running`);
  if (lagExit < 0) problems.push(`virtwork exited ${-lagExit} ms before the last VM was sent Running`);
  if (!perVm.length) problems.push("no VM went Running while virtwork waited: nothing measured");
  const lags = perVm.map((x) => x.lag);
  const split = perVm.filter((x) => Number.isFinite(firstSeen.get(x.vm)));
  const apiShare = split.map((x) => firstSeen.get(x.vm) - running.get(x.vm));
  const afterApi = split.map((x) => seen.get(x.vm) - firstSeen.get(x.vm));
  return {
    valid: problems.length === 0,
    problems,
    lags,
    median: pct(lags, 50),
    p95: pct(lags, 95),
    max: pct(lags, 100),
    lastVm,
    lastRunning,
    sawAll,
    exitAt,
    lagSeen,
    lagExit,
    split: split.length,
    apiShareMedian: pct(apiShare, 50),
    afterApiMedian: pct(afterApi, 50),
  };
}
