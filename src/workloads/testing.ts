/**
 * Test helpers for workload unit tests: build a workload the way the plan does, render its
 * user-data, parse it back as cloud-init (PyYAML, YAML 1.1) would, and read systemd units
 * as sections of key/value entries. Not used by the CLI.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname } from "node:path";
import { parse } from "yaml";
import { CLOUD_CONFIG_HEADER, renderCloudConfig } from "../cloudinit/cloud-config.ts";
import type { GuestConfig } from "../cloudinit/guest-config.ts";
import { debian, fedora, type GuestProfile } from "./guest.ts";
import { resolveParams, type SourcedValue } from "./params.ts";
import { AGENT_SETUP } from "./readiness.ts";
import { guestOf, type Workload, type WorkloadOutput } from "./types.ts";

export interface ParsedFile {
  path: string;
  content: string;
  permissions: unknown;
}

/** The parts of a `#cloud-config` document that workloads produce. */
export interface ParsedUserData {
  packages: unknown[];
  write_files: ParsedFile[];
  runcmd: unknown[][];
  [key: string]: unknown;
}

/** A parsed unit file: section name → ordered [key, value] entries (keys may repeat). */
export type ParsedUnit = Map<string, [string, string][]>;

/** Params as the user would give them, with a test source for error messages. */
export function given(params: Record<string, string>): Record<string, SourcedValue> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k, { value: v, source: `test ${k}` } satisfies SourcedValue]),
  );
}

/** Resolves params against the schema (must be valid), then builds the workload. */
export function buildWorkload(
  workload: Workload,
  options: { params?: Record<string, string>; namespace?: string; guest?: GuestProfile } = {},
): WorkloadOutput {
  const { params, problems } = resolveParams(workload.name, workload.params, given(options.params ?? {}));
  assert.deepEqual(problems, [], `params of ${workload.name} should be valid`);
  return workload.build({
    namespace: options.namespace ?? "virtwork",
    params,
    guest: options.guest ?? fedora,
  });
}

/** Renders the guest config to user-data and parses it back with YAML 1.1 rules. */
export function parseUserData(guest: GuestConfig): ParsedUserData {
  const text = renderCloudConfig(guest);
  assert.ok(text.startsWith(CLOUD_CONFIG_HEADER), "user-data starts with #cloud-config");
  const doc = parse(text, { version: "1.1" }) as Record<string, unknown> | null;
  assert.ok(doc && typeof doc === "object", "user-data is a mapping");
  return {
    ...doc,
    packages: (doc.packages as unknown[] | undefined) ?? [],
    write_files: (doc.write_files as ParsedFile[] | undefined) ?? [],
    runcmd: (doc.runcmd as unknown[][] | undefined) ?? [],
  };
}

/** User-data of VM `index` (default 0) of one role (or the only role) of a built workload. */
export function roleUserData(output: WorkloadOutput, role?: string, index = 0): ParsedUserData {
  const found = output.roles.find((r) => r.role === role);
  assert.ok(found, `role ${role ?? "(single)"} exists`);
  return parseUserData(guestOf(found, index));
}

/**
 * Planned user-data without what the plan adds for readiness (the guest agent's package, its
 * start and setup, the probe helper), i.e. the workload's own part; the readiness part is
 * checked by src/plan/readiness.test.ts. Keeps a list absent when only readiness filled it.
 */
export function workloadPart<T extends Partial<ParsedUserData>>(doc: T): T {
  const agent = (a: unknown[]) =>
    a.join(" ") === `systemctl enable --now ${debian.guestAgent.unit}` ||
    (a.length === 1 && a[0] === AGENT_SETUP);
  const keep = <V>(list: V[] | undefined, own: (v: V) => boolean): V[] | undefined => {
    const kept = list?.filter(own);
    return kept?.length ? kept : undefined;
  };
  const out: T = { ...doc };
  const packages = keep(doc.packages, (p) => p !== debian.guestAgent.package);
  const files = keep(doc.write_files, (f) => !f.path.startsWith(`${dirname(AGENT_SETUP)}/`));
  const runcmd = keep(doc.runcmd, (a) => !agent(a));
  for (const [key, value] of [
    ["packages", packages],
    ["write_files", files],
    ["runcmd", runcmd],
  ] as const) {
    if (value) (out as Record<string, unknown>)[key] = value;
    else delete (out as Record<string, unknown>)[key];
  }
  return out;
}

export function fileAt(doc: ParsedUserData, path: string): ParsedFile {
  const file = doc.write_files.find((f) => f.path === path);
  assert.ok(file, `write_files has ${path}; have ${doc.write_files.map((f) => f.path).join(", ")}`);
  return file;
}

/** Problems reported for `params` (empty when valid). */
export function paramProblems(workload: Workload, params: Record<string, string>): string[] {
  return resolveParams(workload.name, workload.params, given(params)).problems;
}

/** Asserts that `value` for `key` is rejected, with a problem naming the key and the value. */
export function assertRejected(workload: Workload, key: string, value: string): void {
  const problems = paramProblems(workload, { [key]: value });
  assert.equal(problems.length, 1, `${workload.name}.${key}=${JSON.stringify(value)} is rejected`);
  assert.ok(problems[0]?.includes(`test ${key}`), `problem names the source: ${problems[0]}`);
  assert.ok(problems[0]?.includes(`"${value}"`), `problem quotes the value: ${problems[0]}`);
}

/** Asserts that `value` for `key` is accepted. */
export function assertAccepted(workload: Workload, key: string, value: string): void {
  assert.deepEqual(paramProblems(workload, { [key]: value }), [], `${workload.name}.${key}=${value}`);
}

/** Asserts that a shell script parses (`bash -n`) and starts with a bash shebang. */
export function assertBashSyntax(script: string, label: string): void {
  assert.ok(script.startsWith("#!/bin/bash\n"), `${label} starts with #!/bin/bash`);
  const result = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
  assert.equal(result.status, 0, `${label} passes bash -n: ${result.stderr}`);
}

/** Parses systemd unit text: `[Section]` headers, `Key=Value` lines, comments and blanks ignored. */
export function parseUnit(text: string): ParsedUnit {
  return parseIni(text, false);
}

/** Parses an fio job file: like a unit, but bare flags such as `time_based` are allowed (value ""). */
export function parseFioJob(text: string): ParsedUnit {
  return parseIni(text, true);
}

function parseIni(text: string, bareKeys: boolean): ParsedUnit {
  const unit: ParsedUnit = new Map();
  let current: [string, string][] | undefined;
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1] ?? "";
      assert.ok(!unit.has(name), `section [${name}] appears once`);
      current = [];
      unit.set(name, current);
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(current, `line ${i + 1} is inside a section: ${line}`);
    if (eq < 0 && bareKeys) {
      current.push([line, ""]);
      continue;
    }
    assert.ok(eq > 0, `line ${i + 1} is Key=Value: ${line}`);
    current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** Every value of `key` in `section`, in order. */
export function unitValues(unit: ParsedUnit, section: string, key: string): string[] {
  const entries = unit.get(section);
  assert.ok(entries, `unit has section [${section}]`);
  return entries.filter(([k]) => k === key).map(([, v]) => v);
}

/** The single value of `key` in `section`; fails when absent or repeated. */
export function unitValue(unit: ParsedUnit, section: string, key: string): string {
  const values = unitValues(unit, section, key);
  assert.equal(values.length, 1, `[${section}] ${key} appears exactly once (got ${values.length})`);
  return values[0] ?? "";
}

/** The unit file at `path` in the user-data, parsed. */
export function unitAt(doc: ParsedUserData, path: string): ParsedUnit {
  const file = fileAt(doc, path);
  assert.equal(file.permissions, "0644", `${path} is 0644`);
  return parseUnit(file.content);
}

/** Index of an exact argv in runcmd; -1 when absent. */
export function runcmdIndex(doc: ParsedUserData, argv: string[]): number {
  return doc.runcmd.findIndex((cmd) => JSON.stringify(cmd) === JSON.stringify(argv));
}

/** Asserts the shape every workload unit shares (reference §3.0). */
export function assertCommonUnit(unit: ParsedUnit, description: string): void {
  assert.deepEqual([...unit.keys()], ["Unit", "Service", "Install"]);
  assert.equal(unitValue(unit, "Unit", "Description"), description);
  assert.equal(unitValue(unit, "Install", "WantedBy"), "multi-user.target");
}

/** Asserts `Restart=always` with the given `RestartSec`. */
export function assertRestarts(unit: ParsedUnit, restartSec = "10"): void {
  assert.equal(unitValue(unit, "Service", "Restart"), "always");
  assert.equal(unitValue(unit, "Service", "RestartSec"), restartSec);
}

/** Asserts runcmd is exactly: the optional setup commands, daemon-reload, enable --now <unit>. */
export function assertRuncmd(doc: ParsedUserData, unit: string, before: string[][] = []): void {
  assert.deepEqual(doc.runcmd, [
    ...before,
    ["systemctl", "daemon-reload"],
    ["systemctl", "enable", "--now", unit],
  ]);
}

/** The value of `NAME=` at the start of a line of a shell script. */
export function shellVar(script: string, name: string): string | undefined {
  const match = new RegExp(`^${name}=(.*)$`, "m").exec(script);
  return match?.[1]?.replace(/^"(.*)"$/, "$1");
}
