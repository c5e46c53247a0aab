/**
 * Bad input, table-driven, against the built CLI (design §3: exit 2, one `Error: …` line
 * naming the field, nothing on stdout, never a stack trace).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin", "virtwork");

interface Case {
  name: string;
  /** Arguments after `virtwork`; `{dir}` is replaced by the temp dir holding `files`. */
  args: string[];
  env?: Record<string, string>;
  /** Files written into the temp dir before the case runs, by (relative) name. */
  files?: Record<string, string | Buffer>;
  /** Named pipes made in the temp dir before the case runs (nobody ever writes to them). */
  fifos?: string[];
  /** Substrings the error line must contain (the field, and what is wrong). */
  expect: string[];
  /** Substrings stderr must not contain (secrets the input held). */
  hide?: string[];
  /** Paths under the temp dir that must not exist afterwards (nothing is created). */
  absent?: string[];
  /** A known bug: the case runs but does not fail the suite (see the report). */
  todo?: string;
}

const DRY = ["run", "--dry-run"];
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0a2V5 user@host";
const cfg = (name: string, yaml: string): Pick<Case, "args" | "files"> => ({
  args: [...DRY, "--config", `{dir}/${name}`],
  files: { [name]: yaml },
});

const FLAGS: Case[] = [
  { name: "negative --vm-count", args: [...DRY, "--vm-count", "-1"], expect: ["--vm-count", "-1"] },
  { name: "zero --vm-count", args: [...DRY, "--vm-count", "0"], expect: ["--vm-count", "between 1 and"] },
  { name: "word --vm-count", args: [...DRY, "--vm-count", "abc"], expect: ["--vm-count", '"abc"'] },
  { name: "float --vm-count", args: [...DRY, "--vm-count", "1.5"], expect: ["--vm-count", "whole number"] },
  { name: "huge --vm-count", args: [...DRY, "--vm-count", "99999999999999999999"], expect: ["--vm-count"] },
  { name: "missing --vm-count value", args: [...DRY, "--vm-count"], expect: ["--vm-count", "missing"] },
  { name: "zero --cpu-cores", args: [...DRY, "--cpu-cores", "0"], expect: ["--cpu-cores"] },
  { name: "hex --cpu-cores", args: [...DRY, "--cpu-cores", "0x10"], expect: ["--cpu-cores", '"0x10"'] },
  { name: "size 2Gx for --memory", args: [...DRY, "--memory", "2Gx"], expect: ["--memory", '"2Gx"'] },
  { name: "tiny --memory", args: [...DRY, "--memory", "1Ki"], expect: ["--memory", "too small"] },
  { name: "empty --memory", args: [...DRY, "--memory", ""], expect: ["--memory", "empty"] },
  {
    name: "size 2Gx for --disk-size",
    args: [...DRY, "--disk-size", "2Gx"],
    expect: ["--disk-size", '"2Gx"'],
  },
  { name: "negative --disk-size", args: [...DRY, "--disk-size", "-5Gi"], expect: ["--disk-size", '"-5Gi"'] },
  {
    name: "MiB is not a quantity",
    args: [...DRY, "--disk-size", "10MiB"],
    expect: ["--disk-size", '"10MiB"'],
  },
  {
    name: "upper-case --namespace",
    args: [...DRY, "--namespace", "Bad_NS"],
    expect: ["--namespace", '"Bad_NS"', "DNS-1123"],
  },
  { name: "empty -n", args: [...DRY, "-n", ""], expect: ["--namespace", "empty"] },
  { name: "64-character namespace", args: [...DRY, "-n", "a".repeat(64)], expect: ["--namespace", "63"] },
  { name: "namespace with a leading dash", args: [...DRY, "-n=-ns"], expect: ["--namespace", "DNS-1123"] },
  {
    name: "--storage-class with a space",
    args: [...DRY, "--storage-class", "Fast SSD"],
    expect: ["--storage-class", "DNS-1123 subdomain"],
  },
  {
    name: "--storage-class upper-case",
    args: [...DRY, "--storage-class", "Gold.Tier"],
    expect: ["--storage-class", '"Gold.Tier"'],
  },
  {
    name: "--guest-os contradicting the image",
    args: [...DRY, "--guest-os", "ubuntu", "--container-disk-image", "quay.io/containerdisks/debian:12"],
    expect: ["--guest-os", '"ubuntu"', "debian image", "change --guest-os to debian"],
  },
  {
    name: "word --cpu-request",
    args: [...DRY, "--cpu-request", "half"],
    expect: ["--cpu-request", '"half"'],
  },
  {
    name: "unknown --eviction-strategy",
    args: [...DRY, "--eviction-strategy", "Migrate"],
    expect: ["--eviction-strategy", "LiveMigrateIfPossible"],
  },
  {
    name: "zero --termination-grace-period",
    args: [...DRY, "--termination-grace-period", "0"],
    expect: ["--termination-grace-period", "at least 1"],
  },
  {
    name: "--golden-image without an image",
    args: [...DRY, "--golden-image", "--guest-os", "debian"],
    expect: [
      "--golden-image",
      "--container-disk-image <your golden debian image>",
      "images/golden/README.md",
    ],
  },
  {
    name: "--golden-image on a stock containerdisk",
    args: [...DRY, "--golden-image", "--container-disk-image", "quay.io/containerdisks/fedora:42"],
    expect: [
      "--golden-image",
      '"quay.io/containerdisks/fedora:42" is a stock containerdisk',
      "drop --golden-image",
    ],
  },
  {
    name: "VIRTWORK_GOLDEN_IMAGE not a boolean",
    args: DRY,
    env: { VIRTWORK_GOLDEN_IMAGE: "maybe" },
    expect: ["VIRTWORK_GOLDEN_IMAGE", "maybe"],
  },
  {
    name: "--container-disk-image with a space",
    args: [...DRY, "--container-disk-image", "bad image"],
    expect: ["--container-disk-image"],
  },
  { name: "zero --timeout", args: [...DRY, "--timeout", "0"], expect: ["--timeout"] },
  { name: "bad duration --timeout", args: [...DRY, "--timeout", "1h30x"], expect: ["--timeout", '"1h30x"'] },
  { name: "zero --vm-concurrency", args: [...DRY, "--vm-concurrency", "0"], expect: ["--vm-concurrency"] },
  { name: "upper-case --ssh-user", args: [...DRY, "--ssh-user", "Root"], expect: ["--ssh-user", '"Root"'] },
  {
    name: "--ssh-key that is not a key",
    args: [...DRY, "--ssh-key", "not-a-key"],
    expect: ["--ssh-key", "not an OpenSSH public key"],
  },
  {
    name: "--ssh-key without key material",
    args: [...DRY, "--ssh-key", "ssh-rsa"],
    expect: ["--ssh-key", "not an OpenSSH public key"],
  },
  {
    name: "second --ssh-key bad",
    args: [...DRY, "--ssh-key", KEY, "--ssh-key", "ssh-ed25519 !!!"],
    expect: ["--ssh-key", "not an OpenSSH public key"],
  },
  {
    name: "missing --ssh-key-file",
    args: [...DRY, "--ssh-key-file", "/nonexistent/id.pub"],
    expect: ["--ssh-key-file", "/nonexistent/id.pub", "no such file"],
  },
  {
    name: "--ssh-key-file holding a private key",
    args: [...DRY, "--ssh-key-file", "{dir}/id"],
    files: {
      id: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    },
    expect: ["--ssh-key-file", "not an OpenSSH public key"],
  },
  {
    name: "--ssh-key-file with garbage",
    args: [...DRY, "--ssh-key-file", "{dir}/bad.pub"],
    files: { "bad.pub": "garbage\n" },
    expect: ["--ssh-key-file", "bad.pub"],
  },
  { name: "--ssh-key-file without a value", args: [...DRY, "--ssh-key-file"], expect: ["--ssh-key-file"] },
  { name: "-o xml", args: [...DRY, "-o", "xml"], expect: ["--output", "xml"] },
  { name: "--dry-run=maybe", args: ["run", "--dry-run=maybe"], expect: ["--dry-run", '"maybe"'] },
  {
    name: "several bad flags at once, still one line",
    args: [...DRY, "--vm-count", "0", "--memory", "2Gx"],
    expect: ["--vm-count", "--memory"],
  },
];

const NAMES: Case[] = [
  {
    name: "workload typo",
    args: [...DRY, "--workloads", "cpuu"],
    expect: ["--workloads", '"cpuu"', 'did you mean "cpu"'],
  },
  { name: "no workloads", args: [...DRY, "--workloads", ""], expect: ["--workloads", "no workloads"] },
  { name: "upper-case workload", args: [...DRY, "-w", "CPU"], expect: ["--workloads", '"CPU"'] },
  { name: "all plus an unknown one", args: [...DRY, "-w", "all,bogus"], expect: ["--workloads", '"bogus"'] },
  { name: "second -w unknown", args: [...DRY, "-w", "cpu", "-w", "netwrk"], expect: ['"netwrk"', "network"] },
];

const COMMANDS: Case[] = [
  { name: "unknown flag", args: [...DRY, "--bogus"], expect: ["--bogus"] },
  { name: "unknown global flag before the command", args: ["--frobnicate", "run"], expect: ["--frobnicate"] },
  { name: "unknown command", args: ["bogus"], expect: ["bogus"] },
  { name: "command typo", args: ["rnu", "--dry-run"], expect: ["rnu"] },
  { name: "positional argument to run", args: ["run", "extra", "--dry-run"], expect: ["extra"] },
  { name: "unknown completion shell", args: ["completion", "tcsh"], expect: ["tcsh"] },
];

const CONFIG: Case[] = [
  {
    name: "missing --config file",
    args: [...DRY, "--config", "/nonexistent/virtwork.yaml"],
    expect: ["--config", "/nonexistent/virtwork.yaml", "no such file"],
  },
  { name: "--config is a directory", args: [...DRY, "--config", "{dir}"], expect: ["--config"] },
  {
    name: "missing VIRTWORK_CONFIG file",
    args: DRY,
    env: { VIRTWORK_CONFIG: "/nonexistent/v.yaml" },
    expect: ["VIRTWORK_CONFIG", "/nonexistent/v.yaml"],
  },
  { name: "malformed YAML", ...cfg("bad.yaml", "namespace: [unclosed\n"), expect: ["bad.yaml", "line 2"] },
  { name: "tabs in YAML", ...cfg("tab.yaml", "\t- bad\n"), expect: ["tab.yaml", "line 1", "Tabs"] },
  {
    name: "duplicate YAML keys",
    ...cfg("dup.yaml", "namespace: a\nnamespace: b\n"),
    expect: ["dup.yaml", "line 2", "unique"],
  },
  { name: "top level is a list", ...cfg("list.yaml", "- a\n- b\n"), expect: ["list.yaml", "top level"] },
  {
    name: "unknown top-level key",
    ...cfg("unknown.yaml", "vmcount: 2\n"),
    expect: ['unknown key "vmcount"', 'did you mean "vm-count"'],
  },
  {
    name: "unknown nested key workloads.cpu.vmcount",
    ...cfg("nested.yaml", "workloads:\n  cpu:\n    vmcount: 2\n"),
    expect: ["workloads.cpu", '"vmcount"', 'did you mean "vm-count"'],
  },
  {
    name: "wrong type for cpu-cores",
    ...cfg("type.yaml", "cpu-cores: two\n"),
    expect: ["cpu-cores", '"two"'],
  },
  { name: "float vm-count", ...cfg("float.yaml", "vm-count: 2.5\n"), expect: ["vm-count", "2.5"] },
  { name: "map for namespace", ...cfg("map.yaml", "namespace:\n  a: 1\n"), expect: ["namespace"] },
  { name: "bool for timeout", ...cfg("bool.yaml", "timeout: true\n"), expect: ["timeout"] },
  {
    name: "both cpu-cores and cpu_cores",
    ...cfg("both.yaml", "cpu-cores: 2\ncpu_cores: 3\n"),
    expect: ["cpu-cores", "cpu_cores", "twice"],
  },
  {
    name: "both spellings inside workloads.cpu",
    ...cfg("both2.yaml", "workloads:\n  cpu:\n    cpu_cores: 2\n    cpu-cores: 3\n"),
    expect: ["workloads.cpu.cpu-cores", "twice"],
  },
  {
    name: "unknown workload in the map",
    ...cfg("unkwl.yaml", "workloads:\n  cpuu:\n    vm-count: 2\n"),
    expect: ["workloads.cpuu", 'did you mean "cpu"'],
  },
  {
    name: "unknown workload in the list",
    ...cfg("wll.yaml", "workloads: [cpu, cpux]\n"),
    expect: ["workloads", '"cpux"'],
  },
  { name: "workloads is a number", ...cfg("wl5.yaml", "workloads: 5\n"), expect: ["workloads"] },
  {
    name: "workloads.cpu is a scalar",
    ...cfg("scalar.yaml", "workloads:\n  cpu: 3\n"),
    expect: ["workloads.cpu", "must be a map"],
  },
  {
    name: "workloads.cpu.params is a list",
    ...cfg("plist.yaml", "workloads:\n  cpu:\n    params: [a, b]\n"),
    expect: ["workloads.cpu.params"],
  },
  {
    name: "a param value that is a list",
    ...cfg("pnested.yaml", "workloads:\n  cpu:\n    params:\n      cpu-method: [a]\n"),
    expect: ["workloads.cpu.params.cpu-method"],
  },
  {
    name: "unknown param in the file",
    ...cfg("unkparam.yaml", "workloads:\n  cpu:\n    params:\n      cpu-lod-percent: 50\n"),
    expect: ["workloads.cpu.params.cpu-lod-percent", 'did you mean "cpu-load-percent"'],
  },
  {
    name: "bad param value in the file",
    ...cfg("badparam.yaml", "workloads:\n  cpu:\n    params:\n      cpu-load-percent: 150\n"),
    expect: ["workloads.cpu.params.cpu-load-percent", '"150"'],
  },
  {
    name: "negative per-workload vm-count",
    ...cfg("negwl.yaml", "workloads:\n  cpu:\n    vm-count: -1\n"),
    expect: ["workloads.cpu.vm-count", "-1"],
  },
  {
    name: "bad per-workload enabled",
    ...cfg("en.yaml", "workloads:\n  cpu:\n    enabled: maybe\n"),
    expect: ["workloads.cpu.enabled", '"maybe"'],
  },
  {
    name: "bad per-workload memory",
    ...cfg("wlmem.yaml", "workloads:\n  database:\n    memory: 4GB\n"),
    expect: ["workloads.database.memory", '"4GB"'],
  },
  { name: "memory 2Gx in the file", ...cfg("mem.yaml", "memory: 2Gx\n"), expect: ["memory", '"2Gx"'] },
  {
    name: "storage_class in snake case, invalid",
    ...cfg("sc.yaml", "storage_class: Fast_SSD\n"),
    expect: ["storage-class", '"Fast_SSD"'],
  },
  {
    name: "bad key in ssh-authorized-keys",
    ...cfg("keys.yaml", "ssh-authorized-keys: [bad]\n"),
    expect: ["ssh-authorized-keys", "not an OpenSSH public key"],
  },
];

const ENV: Case[] = [
  {
    name: "VIRTWORK_MEMORY=2Gx",
    args: DRY,
    env: { VIRTWORK_MEMORY: "2Gx" },
    expect: ["VIRTWORK_MEMORY", '"2Gx"'],
  },
  {
    name: "VIRTWORK_VM_COUNT=-3",
    args: DRY,
    env: { VIRTWORK_VM_COUNT: "-3" },
    expect: ["VIRTWORK_VM_COUNT", "-3"],
  },
  {
    name: "VIRTWORK_CPU_CORES=abc",
    args: DRY,
    env: { VIRTWORK_CPU_CORES: "abc" },
    expect: ["VIRTWORK_CPU_CORES"],
  },
  {
    name: "VIRTWORK_NAMESPACE=Foo.Bar",
    args: DRY,
    env: { VIRTWORK_NAMESPACE: "Foo.Bar" },
    expect: ["VIRTWORK_NAMESPACE", '"Foo.Bar"'],
  },
  {
    name: "VIRTWORK_DISK_SIZE=ten",
    args: DRY,
    env: { VIRTWORK_DISK_SIZE: "ten" },
    expect: ["VIRTWORK_DISK_SIZE"],
  },
  {
    name: "VIRTWORK_VERBOSE=maybe",
    args: DRY,
    env: { VIRTWORK_VERBOSE: "maybe" },
    expect: ["VIRTWORK_VERBOSE"],
  },
  {
    name: "VIRTWORK_AUDIT=yes",
    args: DRY,
    env: { VIRTWORK_AUDIT: "yes" },
    expect: ["VIRTWORK_AUDIT", '"yes"'],
  },
  { name: "VIRTWORK_WAIT=nope", args: DRY, env: { VIRTWORK_WAIT: "nope" }, expect: ["VIRTWORK_WAIT"] },
  { name: "VIRTWORK_TIMEOUT=-5", args: DRY, env: { VIRTWORK_TIMEOUT: "-5" }, expect: ["VIRTWORK_TIMEOUT"] },
  {
    name: "VIRTWORK_WORKLOADS with an unknown name",
    args: DRY,
    env: { VIRTWORK_WORKLOADS: "cpu,memroy" },
    expect: ["VIRTWORK_WORKLOADS", '"memroy"', 'did you mean "memory"'],
  },
  {
    name: "VIRTWORK_STORAGE_CLASS=UPPER",
    args: DRY,
    env: { VIRTWORK_STORAGE_CLASS: "UPPER" },
    expect: ["VIRTWORK_STORAGE_CLASS"],
  },
  {
    name: "VIRTWORK_SSH_AUTHORIZED_KEYS with a bad key",
    args: DRY,
    env: { VIRTWORK_SSH_AUTHORIZED_KEYS: `nokey,${KEY}` },
    expect: ["VIRTWORK_SSH_AUTHORIZED_KEYS", "not an OpenSSH public key"],
  },
  {
    name: "VIRTWORK_SSH_USER=1bad",
    args: DRY,
    env: { VIRTWORK_SSH_USER: "1bad" },
    expect: ["VIRTWORK_SSH_USER"],
  },
  {
    name: "VIRTWORK_OUTPUT=xml",
    args: DRY,
    env: { VIRTWORK_OUTPUT: "xml" },
    expect: ["VIRTWORK_OUTPUT", "xml"],
  },
  {
    name: "VIRTWORK_DRY_RUN=sometimes",
    args: ["run"],
    env: { VIRTWORK_DRY_RUN: "sometimes" },
    expect: ["VIRTWORK_DRY_RUN", '"sometimes"'],
  },
  {
    name: "VIRTWORK_VM_CONCURRENCY=0",
    args: DRY,
    env: { VIRTWORK_VM_CONCURRENCY: "0" },
    expect: ["VIRTWORK_VM_CONCURRENCY"],
  },
  {
    name: "VIRTWORK_WORKLOAD_CPU_VM_COUNT=0",
    args: DRY,
    env: { VIRTWORK_WORKLOAD_CPU_VM_COUNT: "0" },
    expect: ["VIRTWORK_WORKLOAD_CPU_VM_COUNT"],
  },
  {
    name: "VIRTWORK_WORKLOAD_CPU_VMCOUNT (unknown field)",
    args: DRY,
    env: { VIRTWORK_WORKLOAD_CPU_VMCOUNT: "2" },
    expect: ["VIRTWORK_WORKLOAD_CPU_VMCOUNT", 'did you mean "VIRTWORK_WORKLOAD_CPU_VM_COUNT"'],
  },
  {
    name: "VIRTWORK_WORKLOAD_CPUU_VM_COUNT (unknown workload)",
    args: DRY,
    env: { VIRTWORK_WORKLOAD_CPUU_VM_COUNT: "2" },
    expect: ["VIRTWORK_WORKLOAD_CPUU_VM_COUNT"],
  },
  {
    name: "VIRTWORK_WORKLOAD_CHAOS_DISK_ENABLED=maybe",
    args: DRY,
    env: { VIRTWORK_WORKLOAD_CHAOS_DISK_ENABLED: "maybe" },
    expect: ["VIRTWORK_WORKLOAD_CHAOS_DISK_ENABLED", '"maybe"'],
  },
  {
    name: "VIRTWORK_WORKLOAD_DISK_MEMORY=lots",
    args: DRY,
    env: { VIRTWORK_WORKLOAD_DISK_MEMORY: "lots" },
    expect: ["VIRTWORK_WORKLOAD_DISK_MEMORY", '"lots"'],
  },
  {
    name: "VIRTWORK_WORKLOAD_TPS_CPU_CORES=0",
    args: DRY,
    env: { VIRTWORK_WORKLOAD_TPS_CPU_CORES: "0" },
    expect: ["VIRTWORK_WORKLOAD_TPS_CPU_CORES"],
  },
  {
    name: "VIRTWORK_WORKLOAD_CPU_PARAMS without '='",
    args: DRY,
    env: { VIRTWORK_WORKLOAD_CPU_PARAMS: "cpu-load-percent" },
    expect: ["VIRTWORK_WORKLOAD_CPU_PARAMS", "missing '='"],
  },
  {
    name: "VIRTWORK_WORKLOAD_CPU_PARAMS with an unknown param",
    args: DRY,
    env: { VIRTWORK_WORKLOAD_CPU_PARAMS: "cpu-lod-percent=3" },
    expect: ["VIRTWORK_WORKLOAD_CPU_PARAMS", 'did you mean "cpu-load-percent"'],
  },
  {
    name: "VIRTWORK_WORKLOAD_MEMORY_PARAMS with a bad value",
    args: DRY,
    env: { VIRTWORK_WORKLOAD_MEMORY_PARAMS: "memory-percent=0" },
    expect: ["VIRTWORK_WORKLOAD_MEMORY_PARAMS", "memory-percent", '"0"'],
  },
  {
    name: "VIRTWORK_PARAMS without a workload prefix",
    args: DRY,
    env: { VIRTWORK_PARAMS: "cpu-load-percent=50" },
    expect: ["VIRTWORK_PARAMS", "missing workload prefix"],
  },
  {
    name: "VIRTWORK_PARAMS with a bad value",
    args: DRY,
    env: { VIRTWORK_PARAMS: "cpu.cpu-load-percent=150" },
    expect: ["VIRTWORK_PARAMS cpu.cpu-load-percent", '"150"'],
  },
];

const PARAMS: Case[] = [
  {
    name: "--params without a workload prefix",
    args: [...DRY, "--params", "cpu-load-percent=50"],
    expect: ["--params", "missing workload prefix"],
  },
  {
    name: "--params with an empty workload",
    args: [...DRY, "--params", ".x=1"],
    expect: ["--params", "empty workload"],
  },
  {
    name: "--params without '='",
    args: [...DRY, "--params", "cpu.cpu-load-percent"],
    expect: ["--params", "missing '='"],
  },
  {
    name: "--params with an empty key",
    args: [...DRY, "--params", "cpu.=50"],
    expect: ["--params", "empty param key"],
  },
  {
    name: "--params with an unknown workload prefix",
    args: [...DRY, "--params", "cpuu.cpu-load-percent=50"],
    expect: ["--params cpuu.cpu-load-percent", 'did you mean "cpu"'],
  },
  {
    name: "--params with an unknown key",
    args: [...DRY, "--params", "cpu.cpu-lod-percent=50"],
    expect: ["--params cpu.cpu-lod-percent", 'did you mean "cpu-load-percent"'],
  },
  {
    name: "--params int given a float",
    args: [...DRY, "--params", "cpu.cpu-load-percent=1.5"],
    expect: ["--params cpu.cpu-load-percent", '"1.5"', "integer"],
  },
  {
    name: "--params out of range",
    args: [...DRY, "--params", "memory.memory-percent=0"],
    expect: ["--params memory.memory-percent", '"0"'],
  },
  {
    name: "--params bad block size",
    args: [...DRY, "--params", "disk.block-size-rw=4kb"],
    expect: ["--params disk.block-size-rw", '"4kb"'],
  },
  {
    name: "--params tps file-size in MiB",
    args: [...DRY, "--params", "tps.file-size=10MiB"],
    expect: ["--params tps.file-size", '"10MiB"'],
  },
  {
    name: "--params tps file-size zero",
    args: [...DRY, "--params", "tps.file-size=0M"],
    expect: ["--params tps.file-size", '"0M"'],
  },
  {
    name: "--params packet loss not a number",
    args: [...DRY, "-w", "chaos-network", "--params", "chaos-network.packet-loss-percent=abc"],
    expect: ["--params chaos-network.packet-loss-percent", '"abc"'],
  },
  {
    name: "--params unknown signal",
    args: [...DRY, "--params", "chaos-process.signal=TERM"],
    expect: ["--params chaos-process.signal", '"TERM"'],
  },
  {
    name: "--params relative mount",
    args: [...DRY, "--params", "chaos-disk.mount=relative/path"],
    expect: ["--params chaos-disk.mount", '"relative/path"'],
  },
  {
    name: "--params zero streams",
    args: [...DRY, "--params", "network.parallel-streams=0"],
    expect: ["--params network.parallel-streams"],
  },
  {
    name: "--params too many clients",
    args: [...DRY, "--params", "database.clients=1001"],
    expect: ["--params database.clients", '"1001"'],
  },
  {
    name: "--params shell injection",
    args: [...DRY, "--params", "cpu.cpu-method=all; rm -rf /"],
    expect: ["--params cpu.cpu-method", "all; rm -rf /"],
  },
  {
    name: "second --params bad",
    args: [...DRY, "--params", "cpu.cpu-load-percent=50", "--params", "memory.memory-percent=200"],
    expect: ["--params memory.memory-percent", '"200"'],
  },
  {
    name: "--params pair list with a bad second value",
    args: [...DRY, "--params", "cpu.cpu-load-percent=50,cpu.cpu-method=x y"],
    expect: ["--params cpu.cpu-method", '"x y"'],
  },
];

const SET: Case[] = [
  { name: "--set vm-count 0", args: [...DRY, "--set", "cpu.vm-count=0"], expect: ["--set cpu.vm-count"] },
  {
    name: "--set unknown field",
    args: [...DRY, "--set", "cpu.vmcount=2"],
    expect: ["--set cpu.vmcount", 'did you mean "vm-count"'],
  },
  {
    name: "--set unknown workload",
    args: [...DRY, "--set", "cpuu.vm-count=2"],
    expect: ["--set cpuu.vm-count", 'did you mean "cpu"'],
  },
  { name: "--set params", args: [...DRY, "--set", "cpu.params=x"], expect: ["--set cpu.params", "--params"] },
  { name: "--set without '='", args: [...DRY, "--set", "novalue"], expect: ["--set", '"novalue"'] },
  { name: "--set without a workload", args: [...DRY, "--set", "=3"], expect: ["--set", '"=3"'] },
  {
    name: "--set bad bool",
    args: [...DRY, "--set", "cpu.enabled=maybe"],
    expect: ["--set cpu.enabled", '"maybe"'],
  },
  {
    name: "--set bad memory",
    args: [...DRY, "--set", "cpu.memory=2Gx"],
    expect: ["--set cpu.memory", '"2Gx"'],
  },
  {
    name: "--set negative cores",
    args: [...DRY, "--set", "cpu.cpu-cores=-2"],
    expect: ["--set cpu.cpu-cores"],
  },
];

/** Regressions of bugs found by this suite (escaped control characters, param bounds). */
const REGRESSIONS: Case[] = [
  {
    name: "a newline in a flag value stays on one error line",
    args: [...DRY, "--namespace", "a\nb"],
    expect: ["--namespace"],
  },
  {
    name: "a newline in an env value stays on one error line",
    args: DRY,
    env: { VIRTWORK_MEMORY: "1G\nx" },
    expect: ["VIRTWORK_MEMORY"],
  },
  {
    name: "a newline in a --params key stays on one error line",
    args: [...DRY, "--params", "cpu.cpu-lod\nx=1"],
    expect: ["--params"],
  },
  {
    name: "an absurd tps file-size is rejected",
    args: [...DRY, "-w", "tps", "--params", "tps.file-size=999999999999G"],
    expect: ["--params tps.file-size"],
  },
  {
    name: "a zero disk block size is rejected",
    args: [...DRY, "-w", "disk", "--params", "disk.block-size-rw=0"],
    expect: ["--params disk.block-size-rw"],
  },
];

const BOMB = [
  "a: &a [x, x, x, x, x, x, x, x, x, x]",
  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
  "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
  "",
].join("\n");

/** Issue 15: input that used to exit 1 or pass silently. */
const ISSUE_15: Case[] = [
  {
    name: "--ssh-user root",
    args: [...DRY, "--ssh-user", "root", "--ssh-key", KEY],
    expect: ["--ssh-user", '"root" is a system account'],
  },
  {
    name: "VIRTWORK_SSH_USER=systemd-network",
    args: DRY,
    env: { VIRTWORK_SSH_USER: "systemd-network", VIRTWORK_SSH_PASSWORD: "pw-12345" },
    expect: ["VIRTWORK_SSH_USER", "system account"],
  },
  { name: "--ssh-user nobody", args: [...DRY, "--ssh-user", "nobody", "--ssh-key", KEY], expect: ["nobody"] },
  {
    name: "missing --ssh-password-file",
    args: [...DRY, "--ssh-password-file", "/nonexistent/pw"],
    expect: ["--ssh-password-file", "/nonexistent/pw", "no such file"],
  },
  {
    name: "empty --ssh-password-file",
    args: [...DRY, "--ssh-password-file", "{dir}/empty-pw"],
    files: { "empty-pw": "\n" },
    expect: ["--ssh-password-file", "empty"],
  },
  {
    name: "password and password file both given",
    args: [...DRY, "--ssh-password-file", "{dir}/pw"],
    env: { VIRTWORK_SSH_PASSWORD: "pw-12345" },
    files: { pw: "pw-67890\n" },
    expect: ["VIRTWORK_SSH_PASSWORD", "--ssh-password-file", "not both"],
  },
  {
    name: "absurdly long --ssh-password",
    args: [...DRY, "--ssh-password", "p".repeat(5000)],
    expect: ["--ssh-password", "at most 1024"],
  },
  { name: "absurdly long --namespace", args: [...DRY, "-n", "a".repeat(70000)], expect: ["--namespace"] },
  {
    name: "absurdly long --kubeconfig",
    args: [...DRY, "--kubeconfig", "k".repeat(5000)],
    expect: ["--kubeconfig"],
  },
  { name: "empty --from-catalog", args: [...DRY, "--from-catalog="], expect: ["--from-catalog", "empty"] },
  {
    name: "cpu.cpu-method=bogus",
    args: [...DRY, "-w", "cpu", "--params", "cpu.cpu-method=bogus"],
    expect: ["--params cpu.cpu-method", '"bogus"', "stress-ng CPU method"],
  },
  {
    name: "memory.vm-method=bogus",
    args: [...DRY, "-w", "memory", "--params", "memory.vm-method=bogus"],
    expect: ["--params memory.vm-method", "stress-ng VM method"],
  },
  {
    name: "disk.ioengine=bogus",
    args: [...DRY, "-w", "disk", "--params", "disk.ioengine=bogus"],
    expect: ["--params disk.ioengine", "fio ioengine"],
  },
  {
    name: "a param for a workload that is not selected",
    args: [...DRY, "-w", "cpu", "--params", "memory.vm-stressors=2"],
    expect: ["--params memory.vm-stressors", 'workload "memory" is not selected', "--workloads memory"],
  },
  {
    name: "an env param for a workload that is not selected",
    args: [...DRY, "-w", "cpu"],
    env: { VIRTWORK_WORKLOAD_DISK_PARAMS: "numjobs=2" },
    expect: ["VIRTWORK_WORKLOAD_DISK_PARAMS", 'workload "disk" is not selected'],
  },
  { name: "YAML alias bomb in --config", ...cfg("bomb.yaml", BOMB), expect: ["bomb.yaml", "alias"] },
  {
    name: "YAML alias bomb in history --config",
    args: ["history", "--config", "{dir}/bomb2.yaml"],
    files: { "bomb2.yaml": BOMB },
    expect: ["bomb2.yaml", "alias"],
  },
  {
    name: "unknown key in history --config",
    args: ["history", "--config", "{dir}/hist.yaml"],
    files: { "hist.yaml": "audit-db: x.db\naudti: false\n" },
    expect: ["hist.yaml", 'unknown key "audti"', 'did you mean "audit"'],
  },
  {
    name: "history --audit-db pointing at a file that is not a database",
    args: ["history", "--audit-db", "{dir}/notes.txt"],
    files: { "notes.txt": "these are not the runs you are looking for\n" },
    expect: ["--audit-db", "notes.txt", "not a SQLite database"],
  },
  {
    name: "history --audit-db a directory",
    args: ["history", "--audit-db", "{dir}"],
    expect: ["--audit-db", "directory"],
  },
  {
    // Node's recursive mkdir never returns under /proc: this used to spin at full CPU
    name: "run --audit-db under /proc",
    args: ["run", "--audit-db", "/proc/virtwork-none/audit.db"],
    expect: ["--audit-db", "/proc/virtwork-none", "--no-audit"],
  },
  { name: "history show ''", args: ["history", "show", ""], expect: ["history show <run-id>", "empty"] },
  {
    name: "history show with a bad id",
    args: ["history", "show", "a b"],
    expect: ["history show", "not a run id"],
  },
  { name: "status --run-id ''", args: ["status", "--run-id", ""], expect: ["--run-id", "empty"] },
  {
    name: "status --run-id with a comma",
    args: ["status", "--run-id", "a,b"],
    expect: ["--run-id", '"a,b"'],
  },
  {
    name: "status --run-id that is a selector",
    args: ["status", "--run-id", "x!=y"],
    expect: ["--run-id", "not a run id"],
  },
  {
    name: "workloads --catalog-dir missing",
    args: ["workloads", "--catalog-dir", "/nonexistent/catalog"],
    expect: ["--catalog-dir", "/nonexistent/catalog", "does not exist"],
  },
  {
    name: "workloads --catalog-dir empty",
    args: ["workloads", "--catalog-dir="],
    expect: ["--catalog-dir", "empty"],
  },
  {
    name: "workloads VIRTWORK_CATALOG_DIR missing",
    args: ["workloads"],
    env: { VIRTWORK_CATALOG_DIR: "/nonexistent/cat" },
    expect: ["VIRTWORK_CATALOG_DIR", "does not exist"],
  },
  {
    name: "workloads --catalog-dir is a file",
    args: ["workloads", "--catalog-dir", "{dir}/notes.txt"],
    files: { "notes.txt": "x\n" },
    expect: ["--catalog-dir", "not a directory"],
  },
];

const PEM_BAD = "-----BEGIN CERTIFICATE-----\nMIIBnotbase64atall\n-----END CERTIFICATE-----\n";
const VERIFY = ["verify", "--prometheus-url", "http://127.0.0.1:9"];

/** Files named by the user: regular files only, at most 1 MiB, UTF-8 text (never a hang). */
const INPUT_FILES: Case[] = [
  {
    name: "--config is a FIFO",
    args: [...DRY, "--config", "{dir}/config.fifo"],
    fifos: ["config.fifo"],
    expect: ["--config", "config.fifo", "FIFO", "not a regular file"],
  },
  {
    name: "VIRTWORK_CONFIG is /dev/zero",
    args: DRY,
    env: { VIRTWORK_CONFIG: "/dev/zero" },
    expect: ["VIRTWORK_CONFIG", "/dev/zero", "character device, not a regular file"],
  },
  {
    name: "history --config is a FIFO",
    args: ["history", "--config", "{dir}/hist-config.fifo"],
    fifos: ["hist-config.fifo"],
    expect: ["--config", "FIFO"],
  },
  {
    name: "--config over 1 MiB",
    args: [...DRY, "--config", "{dir}/big.yaml"],
    files: { "big.yaml": `# ${"x".repeat(1024 * 1024)}\n` },
    expect: ["--config", "big.yaml", "larger than 1 MiB"],
  },
  {
    name: "--ssh-password-file is a FIFO",
    args: [...DRY, "--ssh-password-file", "{dir}/pw.fifo"],
    fifos: ["pw.fifo"],
    expect: ["--ssh-password-file", "pw.fifo", "FIFO", "not a regular file"],
  },
  {
    name: "VIRTWORK_SSH_PASSWORD_FILE is /dev/zero",
    args: DRY,
    env: { VIRTWORK_SSH_PASSWORD_FILE: "/dev/zero" },
    expect: ["VIRTWORK_SSH_PASSWORD_FILE", "/dev/zero", "character device"],
  },
  {
    name: "ssh-password-file: /dev/zero in the config file",
    ...cfg("pwzero.yaml", "ssh-password-file: /dev/zero\n"),
    expect: ["pwzero.yaml: ssh-password-file", "/dev/zero", "character device"],
  },
  {
    name: "--ssh-password-file that is not UTF-8",
    args: [...DRY, "--ssh-password-file", "{dir}/latin1-pw"],
    files: { "latin1-pw": Buffer.from([0x70, 0xe4, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x0a]) },
    expect: ["--ssh-password-file", "latin1-pw", "not UTF-8"],
  },
  {
    name: "--ssh-key-file is /dev/zero",
    args: [...DRY, "--ssh-key-file", "/dev/zero"],
    expect: ["--ssh-key-file", "/dev/zero", "character device"],
  },
  {
    name: "--kubeconfig is a FIFO",
    args: ["status", "--kubeconfig", "{dir}/kc.fifo"],
    fifos: ["kc.fifo"],
    expect: ["--kubeconfig", "kc.fifo", "FIFO"],
  },
  {
    name: "a catalog manifest that is a FIFO",
    args: [...DRY, "--catalog-dir", "{dir}/fifo-catalog", "--from-catalog", "piped"],
    fifos: ["fifo-catalog/piped/workload.yaml"],
    expect: ["workload.yaml", "FIFO"],
  },
  {
    name: "verify --prometheus-ca is a FIFO",
    args: [...VERIFY, "--prometheus-ca", "{dir}/ca.fifo"],
    fifos: ["ca.fifo"],
    expect: ["--prometheus-ca", "ca.fifo", "FIFO"],
  },
  {
    name: "VIRTWORK_PROMETHEUS_CA is /dev/zero",
    args: VERIFY,
    env: { VIRTWORK_PROMETHEUS_CA: "/dev/zero" },
    expect: ["VIRTWORK_PROMETHEUS_CA", "/dev/zero", "character device"],
  },
  {
    name: "verify --prometheus-ca with a certificate that does not parse",
    args: [...VERIFY, "--prometheus-ca", "{dir}/bad-ca.pem"],
    files: { "bad-ca.pem": PEM_BAD },
    expect: ["--prometheus-ca", "bad-ca.pem", "does not parse"],
  },
  {
    // caught before the VMs are created, not when verify starts after them
    name: "run --verify --prometheus-ca with a certificate that does not parse",
    args: [
      "run",
      "-w",
      "cpu",
      "--verify",
      "--prometheus-url",
      "http://127.0.0.1:9",
      "--prometheus-ca",
      "{dir}/bad-ca2.pem",
    ],
    files: { "bad-ca2.pem": PEM_BAD },
    expect: ["--prometheus-ca", "bad-ca2.pem", "does not parse"],
  },
];

/** Config-file values are the text written, so YAML's number spellings are refused like a flag's. */
const YAML_TEXT: Case[] = [
  {
    name: "vm-count: 0x10 in the file",
    ...cfg("hex.yaml", "vm-count: 0x10\n"),
    expect: ["vm-count", '"0x10"'],
  },
  {
    name: "cpu-cores: 1e1 in the file",
    ...cfg("exp.yaml", "cpu-cores: 1e1\n"),
    expect: ["cpu-cores", '"1e1"'],
  },
  {
    name: "ssh-user: 0123 in the file, quoted as written",
    ...cfg("user0.yaml", "ssh-user: 0123\nssh-password: pw-12345\n"),
    expect: ["ssh-user", '"0123"'],
  },
  {
    name: "a param written in hex in the file",
    ...cfg("phex.yaml", "workloads:\n  cpu:\n    params:\n      cpu-load-percent: 0x32\n"),
    expect: ["workloads.cpu.params.cpu-load-percent", '"0x32"'],
  },
];

/** A kubeconfig whose server refuses connections: a case that gets past validation fails with exit 1. */
const UNREACHABLE_KUBECONFIG = [
  "apiVersion: v1",
  "kind: Config",
  "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]",
  "users: [{name: u, user: {token: abc}}]",
  "contexts: [{name: x, context: {cluster: c, user: u}}]",
  "current-context: x",
  "",
].join("\n");

/** The audit database: only the schemes it supports; a named one that is missing is not "no runs". */
const AUDIT_DB: Case[] = [
  {
    name: "--audit-db with a mysql:// URL",
    args: [...DRY, "--audit-db", "mysql://x/y"],
    expect: ["--audit-db", '"mysql://x/y"', "mysql:// URL", "postgres://", "SQLite file"],
    absent: ["mysql:"],
  },
  {
    name: "VIRTWORK_AUDIT_DB with a mysql:// URL creates nothing",
    args: ["run", "-w", "cpu", "--dry-run=server", "--kubeconfig", "{dir}/unreachable.kubeconfig"],
    env: { VIRTWORK_AUDIT_DB: "mysql://x/y" },
    files: { "unreachable.kubeconfig": UNREACHABLE_KUBECONFIG },
    expect: ["VIRTWORK_AUDIT_DB", "mysql:// URL", "postgresql://"],
    absent: ["mysql:"],
  },
  {
    name: "audit-db: sqlite:// in the config file",
    ...cfg("sqliteurl.yaml", "audit-db: sqlite://audit.db\n"),
    expect: ["sqliteurl.yaml: audit-db", "sqlite:// URL", "path of a SQLite file"],
  },
  {
    name: "history --audit-db with credentials in an unsupported URL",
    args: ["history", "--audit-db", "mysql://app:s3cret-pw@db.example/audit"],
    expect: ["--audit-db", "mysql://app:***@db.example/audit"],
    hide: ["s3cret-pw"],
  },
  {
    name: "history --audit-db that does not exist",
    args: ["history", "--audit-db", "{dir}/no-such.db"],
    expect: ["--audit-db", "no-such.db", "does not exist"],
    absent: ["no-such.db"],
  },
  {
    name: "history VIRTWORK_AUDIT_DB that does not exist",
    args: ["history"],
    env: { VIRTWORK_AUDIT_DB: "/nonexistent/audit.db" },
    expect: ["VIRTWORK_AUDIT_DB", "/nonexistent/audit.db", "does not exist"],
  },
  {
    name: "history show with a config-file audit-db that does not exist",
    args: ["history", "show", "3f2a9c1e", "--config", "{dir}/histdb.yaml"],
    files: { "histdb.yaml": "audit-db: no-such-2.db\n" },
    expect: ["histdb.yaml: audit-db", "no-such-2.db", "does not exist"],
  },
];

/** An empty param value is a value forgotten, not the default (cpu-load-percent= ran at 100 %). */
const EMPTY_PARAMS: Case[] = [
  {
    name: "--params with an empty value",
    args: [...DRY, "--params", "cpu.cpu-load-percent="],
    expect: ["--params cpu.cpu-load-percent", 'value "" is empty', 'default ("100")'],
  },
  {
    name: "--params pair list with an empty first value",
    args: [...DRY, "--params", "cpu.cpu-load-percent=,cpu.cpu-method=all"],
    expect: ["--params cpu.cpu-load-percent", 'value "" is empty'],
  },
  {
    name: "VIRTWORK_PARAMS with an empty value",
    args: DRY,
    env: { VIRTWORK_PARAMS: "cpu.cpu-load-percent=" },
    expect: ["VIRTWORK_PARAMS cpu.cpu-load-percent", 'value "" is empty'],
  },
  {
    name: "VIRTWORK_WORKLOAD_CPU_PARAMS with an empty value",
    args: DRY,
    env: { VIRTWORK_WORKLOAD_CPU_PARAMS: "cpu-load-percent=" },
    expect: ["VIRTWORK_WORKLOAD_CPU_PARAMS cpu.cpu-load-percent", 'value "" is empty'],
  },
  {
    name: "a param without a value in the file",
    ...cfg("pnull.yaml", "workloads:\n  cpu:\n    params:\n      cpu-load-percent:\n"),
    expect: ["pnull.yaml: workloads.cpu.params.cpu-load-percent", 'value "" is empty'],
  },
  {
    name: "a param with an empty string in the file",
    ...cfg("pempty.yaml", 'workloads:\n  cpu:\n    params:\n      cpu-load-percent: ""\n'),
    expect: ["workloads.cpu.params.cpu-load-percent", 'value "" is empty'],
  },
  {
    name: "an empty value for a catalog entry's param",
    args: [
      ...DRY,
      "--catalog-dir",
      join(ROOT, "catalog"),
      "--from-catalog",
      "redis-bench",
      "--params",
      "redis-bench.num-clients=",
    ],
    expect: ["--params redis-bench.num-clients", 'value "" is empty', 'default ("10")'],
  },
];

/** Echoed input never shows a URL's password; a value from the environment names its variable. */
const ECHO_AND_ORIGIN: Case[] = [
  {
    name: "too many arguments echoing a postgres:// URL with a password",
    args: ["history", "postgres://app:s3cret-pw@db.example/virtwork"],
    expect: ["too many arguments", "postgres://app:***@db.example/virtwork"],
    hide: ["s3cret-pw"],
  },
  {
    name: "too many arguments to status, the URL second",
    args: ["status", "extra", "postgresql://u:pw-xyz-123@h/d"],
    expect: ["too many arguments", "postgresql://u:***@h/d"],
    hide: ["pw-xyz-123"],
  },
  {
    name: "an unknown option holding a URL with a password",
    args: [...DRY, "--audit-dbb=postgres://app:s3cret-pw@db/x"],
    expect: ["--audit-dbb"],
    hide: ["s3cret-pw"],
  },
  {
    name: "VIRTWORK_CONTEXT naming a context the kubeconfig lacks",
    args: ["status", "--kubeconfig", "{dir}/ctx.kubeconfig"],
    env: { VIRTWORK_CONTEXT: "nope" },
    files: { "ctx.kubeconfig": UNREACHABLE_KUBECONFIG },
    expect: ["VIRTWORK_CONTEXT", 'context "nope"', "available: x"],
  },
  {
    name: "context: in the config file naming a context the kubeconfig lacks",
    args: ["status", "--kubeconfig", "{dir}/ctx2.kubeconfig", "--config", "{dir}/ctx.yaml"],
    files: { "ctx2.kubeconfig": UNREACHABLE_KUBECONFIG, "ctx.yaml": "context: nope\n" },
    expect: ["ctx.yaml: context", 'context "nope"'],
  },
  {
    name: "VIRTWORK_KUBECONFIG that does not exist",
    args: ["status"],
    env: { VIRTWORK_KUBECONFIG: "/nonexistent/kubeconfig" },
    expect: ["VIRTWORK_KUBECONFIG", "/nonexistent/kubeconfig", "does not exist"],
  },
  {
    name: "VIRTWORK_AUDIT_DB under /proc",
    args: ["run"],
    env: { VIRTWORK_AUDIT_DB: "/proc/virtwork-none/audit.db" },
    expect: ["VIRTWORK_AUDIT_DB", "/proc/virtwork-none", "--no-audit"],
  },
  {
    name: "VIRTWORK_PROMETHEUS_TOKEN without a URL",
    args: ["verify", "--kubeconfig", "{dir}/v.kubeconfig"],
    env: { VIRTWORK_PROMETHEUS_TOKEN: "sha256~abc" },
    files: { "v.kubeconfig": UNREACHABLE_KUBECONFIG },
    expect: ["VIRTWORK_PROMETHEUS_TOKEN goes with --prometheus-url"],
  },
];

const SUITES: [string, Case[]][] = [
  ["echoed input and where a value came from", ECHO_AND_ORIGIN],
  ["empty param values", EMPTY_PARAMS],
  ["audit database", AUDIT_DB],
  ["config file values as written", YAML_TEXT],
  ["files named by the user", INPUT_FILES],
  ["flags", FLAGS],
  ["workload names", NAMES],
  ["commands and unknown flags", COMMANDS],
  ["config files", CONFIG],
  ["environment", ENV],
  ["params", PARAMS],
  ["--set", SET],
  ["known bugs", REGRESSIONS],
  ["issue 15: passwords, enums, run ids, config files", ISSUE_15],
];

let dir = "";

/** The environment minus every VIRTWORK_* variable, plus the case's. */
function caseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("VIRTWORK_")) env[k] = v;
  return { ...env, ...extra };
}

function runCase(c: Case): void {
  for (const [name, content] of Object.entries(c.files ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  for (const name of c.fifos ?? []) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    if (!existsSync(join(dir, name))) execFileSync("mkfifo", [join(dir, name)]);
  }
  const args = c.args.map((a) => a.replaceAll("{dir}", dir));
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: caseEnv(c.env),
    encoding: "utf8",
    input: "",
    // Bad input is refused at once; a case that waits (on a FIFO, a device) is a failure.
    timeout: 10_000,
    // The CLI handles SIGTERM itself, which a process blocked in open(2) never gets to.
    killSignal: "SIGKILL",
  });
  const shown = `virtwork ${args.join(" ")}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.status, 2, `exit code 2 for ${shown}`);
  assert.equal(r.stdout, "", `nothing on stdout for ${shown}`);
  assert.ok(!r.stderr.includes("    at "), `no stack trace: ${shown}`);
  const lines = r.stderr.split("\n");
  assert.equal(lines.length, 2, `exactly one line on stderr: ${JSON.stringify(r.stderr)}`);
  assert.equal(lines[1], "", "the line ends with a newline");
  const line = lines[0] ?? "";
  assert.ok(line.startsWith("Error: "), `starts with "Error: ": ${line}`);
  assert.ok(
    !/\b(TypeError|ReferenceError|undefined|\[object Object\])\b/.test(line),
    `no internals: ${line}`,
  );
  for (const part of c.expect) assert.ok(line.includes(part), `names ${JSON.stringify(part)}: ${line}`);
  for (const secret of c.hide ?? [])
    assert.ok(!r.stderr.includes(secret), `does not echo ${secret}: ${line}`);
  for (const path of c.absent ?? []) assert.ok(!existsSync(join(dir, path)), `${path} was not created`);
}

describe("virtwork bad input (built CLI): exit 2, one Error line naming the field", () => {
  before(() => {
    if (!existsSync(join(ROOT, "dist", "virtwork.mjs"))) {
      const r = spawnSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
      if (r.status !== 0) throw new Error("npm run build failed");
    }
    dir = mkdtempSync(join(tmpdir(), "virtwork-bad-input-"));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("has at least 45 cases with unique names", () => {
    const all = SUITES.flatMap(([, cases]) => cases).filter((c) => !c.todo);
    assert.ok(all.length >= 45, `${all.length} cases`);
    assert.equal(new Set(all.map((c) => c.name)).size, all.length);
  });

  for (const [group, cases] of SUITES) {
    describe(group, () => {
      for (const c of cases) {
        it(c.name, c.todo ? { todo: c.todo } : {}, () => runCase(c));
      }
    });
  }
});
