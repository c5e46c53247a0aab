#!/usr/bin/env node
// The end of `make test`'s table: where the time of the two long suites went.
//   node scripts/test-budget.mjs DIR
// DIR holds what the suites wrote while they ran (scripts/test-suites.sh sets VIRTWORK_TEST_TIMES):
//   guest-test.jsonl   {case, stage, ms}        one line per stage of each booted-guest case
//   <suite>.jsonl      {file, name, ms, ok}     one line per top-level test (test/times-reporter.mjs)
// Prints the guest stages summed over cases and each timed suite's slowest files. Missing or
// partial files (a suite that did not run, a line cut by a kill) are skipped, never an error.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

const dir = process.argv[2];
if (!dir || !existsSync(dir)) process.exit(0);

const fmt = (ms) => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
};
const lines = (file) =>
  readFileSync(join(dir, file), "utf8")
    .split("\n")
    .flatMap((l) => {
      try {
        return l ? [JSON.parse(l)] : [];
      } catch {
        return [];
      }
    });
const sumBy = (rows, key) => {
  const sums = new Map();
  for (const r of rows) sums.set(r[key], (sums.get(r[key]) ?? 0) + r.ms);
  return sums;
};

const out = [];
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".jsonl"))
  .sort();
if (files.includes("guest-test.jsonl")) {
  const rows = lines("guest-test.jsonl");
  const cases = new Set(rows.map((r) => r.case)).size;
  const stages = sumBy(rows, "stage");
  out.push(
    `guest-test stages, summed over ${cases} case${cases === 1 ? "" : "s"} (cases overlap, so the sum exceeds the suite's time)`,
  );
  for (const [stage, ms] of [...stages].sort((a, b) => b[1] - a[1])) {
    out.push(`  ${stage.padEnd(18)} ${fmt(ms).padStart(12)}`);
  }
}
for (const file of files.filter((f) => f !== "guest-test.jsonl")) {
  const perFile = [...sumBy(lines(file), "file")].sort((a, b) => b[1] - a[1]);
  if (perFile.length === 0) continue;
  out.push(`${basename(file, ".jsonl")}: slowest files (of ${perFile.length})`);
  for (const [name, ms] of perFile.slice(0, 6)) out.push(`  ${fmt(ms).padStart(12)}  ${name}`);
}
if (out.length) console.log(`\n${out.join("\n")}`);
