/**
 * Lint of the Containerfile and .dockerignore. hadolint is not packaged by Debian or the npm
 * registry, so the rules that matter here are checked directly (hadolint's rule ids in
 * brackets). That the build steps work is proven by test/integration/incluster-deploy.test.ts,
 * which runs them without a container engine.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ROOT } from "./cli.ts";

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Instructions with continuation lines joined and comments dropped. */
function parseContainerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = "";
  for (const raw of text.split("\n")) {
    if (/^\s*#/.test(raw)) continue;
    const line = pending + raw.trim();
    if (line.endsWith("\\")) {
      pending = `${line.slice(0, -1).trim()} `;
      continue;
    }
    pending = "";
    if (!line) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    assert.ok(m, `instruction: ${line}`);
    const op = (m[1] as string).toUpperCase();
    if (op === "FROM") stage++;
    out.push({ op, args: m[2] as string, stage });
  }
  return out;
}

const text = readFileSync(join(ROOT, "Containerfile"), "utf8");
const steps = parseContainerfile(text);
const stages = Math.max(...steps.map((s) => s.stage)) + 1;
const final = steps.filter((s) => s.stage === stages - 1);
const build = steps.filter((s) => s.stage === 0);

describe("Containerfile", () => {
  test("multi-stage: a build stage and a runtime stage", () => {
    assert.equal(stages, 2);
    assert.match(build[0]?.args ?? "", / AS build$/i);
  });

  test("every base image is pinned to an exact Node LTS release [DL3006, DL3007]", () => {
    const pinned = readFileSync(join(ROOT, "scripts/ensure-node.sh"), "utf8").match(
      /PINNED_NODE_VERSION="\$\{VIRTWORK_NODE_VERSION:-([\d.]+)\}"/,
    )?.[1];
    for (const from of steps.filter((s) => s.op === "FROM")) {
      const image = from.args.split(/\s+/)[0] ?? "";
      assert.doesNotMatch(image, /:latest$|^[^:@]+$/, `${image} has a version tag`);
      const version = /^node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim$/.exec(image);
      assert.ok(version, `${image} is an exact official node slim release`);
      assert.equal(Number(version[1]) % 2, 0, "an even major: an LTS line");
      assert.equal(`${version[1]}.${version[2]}.${version[3]}`, pinned, "the Node the tests run on");
    }
  });

  test("the runtime stage runs as a non-root numeric user [DL3002]", () => {
    const users = final.filter((s) => s.op === "USER");
    assert.ok(users.length > 0, "a USER in the runtime stage");
    const last = users.at(-1)?.args ?? "";
    assert.match(last, /^[1-9]\d*(:\d+)?$/, "numeric, so runAsNonRoot can verify it");
    const lastUserIndex = final.lastIndexOf(users.at(-1) as Instruction);
    assert.ok(
      final.slice(lastUserIndex).every((s) => s.op !== "USER" || s.args !== "root"),
      "no switch back to root",
    );
  });

  test("the runtime stage holds only the bundle: no RUN, no node_modules, no sources", () => {
    assert.deepEqual(
      final.filter((s) => s.op === "RUN"),
      [],
    );
    const copies = final.filter((s) => s.op === "COPY");
    assert.deepEqual(
      copies.map((c) => c.args),
      ["--from=build /build/dist/ /opt/virtwork/dist/"],
    );
  });

  test("ENTRYPOINT and CMD are in exec form and run the bundle [DL3025]", () => {
    const entry = final.find((s) => s.op === "ENTRYPOINT")?.args ?? "";
    assert.deepEqual(JSON.parse(entry), ["node", "/opt/virtwork/dist/virtwork.mjs"]);
    JSON.parse(final.find((s) => s.op === "CMD")?.args ?? "");
  });

  test("no piping downloads into a shell, no ADD, no sudo, no cd, no npm install [DL3020, DL3004, DL3003, DL3016]", () => {
    for (const s of steps) {
      assert.notEqual(s.op, "ADD", "COPY, not ADD");
      if (s.op !== "RUN") continue;
      assert.doesNotMatch(s.args, /\b(curl|wget)\b[^|]*\|\s*(ba|z)?sh\b/, `no curl|sh: ${s.args}`);
      assert.doesNotMatch(s.args, /\bsudo\b/);
      assert.doesNotMatch(s.args, /(^|&&|;)\s*cd\s/, "WORKDIR, not cd");
      assert.doesNotMatch(s.args, /\bnpm (install|i)\b/, "npm ci from the lockfile");
    }
  });

  test("dependencies come from the lockfile with no install scripts", () => {
    const ci = build.find((s) => s.op === "RUN" && /\bnpm ci\b/.test(s.args));
    assert.ok(ci);
    assert.match(ci.args, /--ignore-scripts/);
    const copyLock = build.findIndex((s) => s.op === "COPY" && /package-lock\.json/.test(s.args));
    assert.ok(copyLock >= 0 && copyLock < build.indexOf(ci), "the lockfile is copied before npm ci");
  });

  test("WORKDIRs are absolute; no secret-looking ENV or ARG [DL3000]", () => {
    for (const s of steps) {
      if (s.op === "WORKDIR") assert.match(s.args, /^\//);
      if (s.op === "ENV" || s.op === "ARG") assert.doesNotMatch(s.args, /PASSWORD|TOKEN|SECRET/i);
    }
  });

  test("every COPY source from the context exists and passes .dockerignore", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    assert.equal(ignore[0], "*", "the context excludes everything by default");
    const allowed = ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1));
    for (const s of build.filter((x) => x.op === "COPY" && !x.args.startsWith("--from"))) {
      const sources = s.args.split(/\s+/).slice(0, -1);
      for (const src of sources) {
        assert.ok(existsSync(join(ROOT, src)), `${src} exists`);
        assert.ok(allowed.includes(src), `${src} is let through by .dockerignore`);
      }
    }
    for (const secretish of [".git", ".cluster", "node_modules", "dist", ".env"]) {
      assert.ok(!allowed.some((a) => a.startsWith(secretish)), `${secretish} stays out of the context`);
    }
  });
});
