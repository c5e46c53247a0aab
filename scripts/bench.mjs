// Benchmarks (npm run bench): reports medians and ratios; every goal line says "met" or "NOT met"
// with its inputs. It fails on a timing only under BENCH_STRICT=1 (exit 3), and always when its
// own measurement is invalid (the cluster part, see scripts/bench-cluster.mjs).
//  - cold start of `virtwork --help` and `virtwork run --dry-run` vs `node -e 0`
//  - time and peak memory to plan and print 1000 VMs
//  - when the local test cluster is up (make cluster-up): scripts/bench-cluster.mjs, 200 VMs
//    deployed, Running and cleaned up (wall time, API requests per VM, detection lag)
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const bundle = new URL("../dist/virtwork.mjs", import.meta.url).pathname;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VIRTWORK_")));

function timeOnce(args, extraEnv = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, {
    env: { ...env, ...extraEnv },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function bench(args) {
  for (let i = 0; i < 2; i++) timeOnce(args); // warm the file cache
  return median(Array.from({ length: RUNS }, () => timeOnce(args)));
}

const baseline = bench(["-e", "0"]);
const help = bench([bundle, "--help"]);
const dryRun = bench([bundle, "run", "--dry-run"]);

// Peak memory of a 1000-VM plan: a preload writes the process's max RSS at exit.
const dir = mkdtempSync(join(tmpdir(), "virtwork-bench-"));
const preload = join(dir, "rss.mjs");
const rssFile = join(dir, "rss.txt");
writeFileSync(
  preload,
  `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));`.replace(
    'require("node:fs")',
    "process.getBuiltinModule('node:fs')",
  ),
);
const bigArgs = [
  "--import",
  preload,
  bundle,
  "run",
  "--dry-run",
  "--workloads",
  "cpu",
  "--vm-count",
  "1000",
  "-o",
  "json",
];
const big = median(Array.from({ length: 5 }, () => timeOnce(bigArgs)));
const peakMb = Number(readFileSync(rssFile, "utf8")) / 1024;
// Memory against plan size: peak RSS at 100 and at 1000 VMs, and the bytes the 900 extra VMs'
// objects take as JSON. Streaming the output keeps the growth near the objects themselves.
const smallArgs = bigArgs.map((a) => (a === "1000" ? "100" : a));
timeOnce(smallArgs);
const smallMb = Number(readFileSync(rssFile, "utf8")) / 1024;
const outputBytes = (args) =>
  spawnSync(process.execPath, args.slice(2), { maxBuffer: 1 << 30, env }).stdout.length;
const perVmKb = (outputBytes(bigArgs) - outputBytes(smallArgs)) / 900 / 1024;
const growthKb = ((peakMb - smallMb) * 1024) / 900;
rmSync(dir, { recursive: true, force: true });

// Every goal says met or NOT met (BENCH_STRICT=1: a NOT met exits 3, as the cluster part does).
let notMet = 0;
const verdict = (ok) => {
  if (!ok) notMet++;
  return ok ? "(met)" : "(NOT met)";
};
const rows = [
  ["node -e 0", baseline, 1, ""],
  ["virtwork --help", help, help / baseline, ""],
  [
    "virtwork run --dry-run (default plan)",
    dryRun,
    dryRun / baseline,
    `goal ≤ 2.0× node -e 0 ${verdict(dryRun / baseline <= 2)}`,
  ],
  [
    "plan + print 1000 VMs (-o json)",
    big,
    big / baseline,
    `peak RSS ${peakMb.toFixed(0)} MB, goal ≤ 150 MB ${verdict(peakMb <= 150)}`,
  ],
];
const memoryLine = `peak RSS 100 VMs ${smallMb.toFixed(0)} MB → 1000 VMs ${peakMb.toFixed(0)} MB: ${growthKb.toFixed(1)} KB per planned VM, its objects are ${perVmKb.toFixed(1)} KB of JSON   goal ≤ 4× the objects ${verdict(growthKb <= 4 * perVmKb)}`;
console.log(`median of ${RUNS} runs (Node ${process.version})`);
for (const [name, ms, ratio, note] of rows) {
  console.log(
    `${name.padEnd(40)} ${ms.toFixed(1).padStart(8)} ms  ${ratio.toFixed(2).padStart(6)}×  ${note}`,
  );
}
console.log(memoryLine);
if (notMet > 0 && process.env.BENCH_STRICT === "1") {
  console.error(`${notMet} local goal(s) NOT met (BENCH_STRICT=1)`);
  process.exitCode = 3;
}

// The cluster part: only against a running local test cluster (never starts one).
const clusterDir = process.env.VIRTWORK_CLUSTER_DIR ?? new URL("../.cluster", import.meta.url).pathname;
function clusterUp() {
  try {
    if (!existsSync(join(clusterDir, "cluster.json"))) return false;
    process.kill(Number(readFileSync(join(clusterDir, "apiserver.pid"), "utf8").trim()), 0);
    return true;
  } catch {
    return false;
  }
}
if (clusterUp()) {
  const script = new URL("bench-cluster.mjs", import.meta.url).pathname;
  const r = spawnSync(process.execPath, ["--experimental-strip-types", "--no-warnings", script], {
    stdio: "inherit",
  });
  if (r.status !== 0) {
    console.error(`cluster benchmark failed (exit ${r.status})`);
    process.exitCode = 1;
  }
} else {
  console.log(
    `\ncluster benchmark skipped: no local test cluster is running in ${clusterDir} (start one with make cluster-up)`,
  );
}
