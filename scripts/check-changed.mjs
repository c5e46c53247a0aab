#!/usr/bin/env node
// `make check`'s test part: runs the unit and guest-artefact tests that what changed can affect.
//   node scripts/check-changed.mjs [--list]
// "Changed" is the working tree (tracked and untracked files) against VIRTWORK_CHECK_BASE, or
// else the merge base with the branch's upstream, or else HEAD: what `git diff` would show.
// A test is picked when it changed, when a file it imports (directly or not) changed, when it
// drives the built CLI (test/unit/cli.ts, bin/virtwork) and anything under src/ changed, or
// when it names a changed non-code file (a catalog manifest, a shell script) in its text. A
// change to package.json, the lock file or tsconfig.json picks every test. `make test` stays
// the whole suite; this is the edit-test loop.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const git = (...args) => {
  const r = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
};

function base() {
  if (process.env.VIRTWORK_CHECK_BASE) return process.env.VIRTWORK_CHECK_BASE;
  const upstream = git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}");
  return (upstream && git("merge-base", "HEAD", upstream)) || "HEAD";
}

function changedFiles(rev) {
  const diff = git("diff", "--name-only", rev);
  if (diff === null) {
    console.error(`check: git cannot compare with ${rev}; set VIRTWORK_CHECK_BASE to a commit`);
    process.exit(2);
  }
  const untracked = git("ls-files", "--others", "--exclude-standard") ?? "";
  return [...new Set([...diff.split("\n"), ...untracked.split("\n")].filter(Boolean))];
}

const CODE = /\.(ts|mts|mjs|js)$/;
function walk(dir, out = []) {
  if (!existsSync(join(root, dir))) return out;
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (name === "node_modules") continue;
    if (statSync(join(root, path)).isDirectory()) walk(path, out);
    else if (CODE.test(name)) out.push(path);
  }
  return out;
}

const IMPORT =
  /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm;
function importsOf(file, text) {
  const found = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith(".")) continue;
    const target = relative(root, resolve(root, dirname(file), spec));
    if (existsSync(join(root, target))) found.push(target);
  }
  return found;
}

const files = [...walk("src"), ...walk("test"), ...walk("scripts")];
const text = new Map(files.map((f) => [f, readFileSync(join(root, f), "utf8")]));
const deps = new Map(files.map((f) => [f, importsOf(f, text.get(f))]));

function closure(file) {
  const seen = new Set([file]);
  const todo = [file];
  while (todo.length) {
    for (const d of deps.get(todo.pop()) ?? []) {
      if (seen.has(d)) continue;
      seen.add(d);
      todo.push(d);
    }
  }
  return seen;
}

const isUnit = (f) => /^(src|test\/unit)\/.*\.test\.ts$/.test(f);
const isArtifact = (f) => /^test\/guest\/artifacts\/[^/]*\.test\.ts$/.test(f);
const tests = files.filter((f) => isUnit(f) || isArtifact(f));

const rev = base();
const changed = changedFiles(rev);
const everything = changed.some((f) => ["package.json", "package-lock.json", "tsconfig.json"].includes(f));
// what the built CLI is made of: a change there reaches every test that runs bin/virtwork
const cliReach = closure("src/cli/entry.ts");
const other = changed.filter((f) => !CODE.test(f));

const picked = tests.filter((t) => {
  if (everything) return true;
  const reach = closure(t);
  if (changed.some((f) => reach.has(f))) return true;
  // the test and its helpers, not the product code they import, say what else they drive
  const body = [...reach]
    .filter((f) => !f.startsWith("src/") || f === t)
    .map((f) => text.get(f) ?? "")
    .join("\n");
  if (cliReach.has(changed.find((f) => cliReach.has(f))) && /bin\/virtwork|\bdist\//.test(body)) return true;
  return other.some((f) => body.includes(f) || (basename(f).length > 6 && body.includes(basename(f))));
});

const unit = picked.filter(isUnit);
const artifacts = picked.filter(isArtifact);
console.log(
  `check: ${changed.length} file${changed.length === 1 ? "" : "s"} changed since ${rev === "HEAD" ? "HEAD" : rev.slice(0, 12)}; ` +
    `${unit.length} of ${tests.filter(isUnit).length} unit and ${artifacts.length} of ${tests.filter(isArtifact).length} guest-artefact test files affected`,
);
if (process.argv.includes("--list")) {
  for (const t of picked) console.log(`  ${t}`);
  process.exit(0);
}

// one runner for both, so the slow files of each overlap on every core
if (artifacts.length) {
  const tools = spawnSync(join(root, "scripts/install-guest-tools.sh"), { cwd: root, stdio: "inherit" });
  if (tools.status !== 0) process.exit(1);
}
if (picked.length === 0) process.exit(0);
const run = spawnSync(
  process.execPath,
  [
    "--test",
    "--experimental-strip-types",
    "--test-reporter=spec",
    "--test-concurrency=4",
    ...unit,
    ...artifacts,
  ],
  { cwd: root, stdio: "inherit" },
);
process.exit(run.status === 0 ? 0 : 1);
