/**
 * The built CLI against bad catalog entries: every one exits 2 with a single `Error:` line on
 * stderr naming the file and the field, prints nothing on stdout, and never a stack trace.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { makeCatalog, unit } from "../../src/workloads/catalog/testing.ts";
import { virtwork } from "./cli.ts";

const OK_UNIT = unit("/bin/sleep infinity");

interface BadCase {
  what: string;
  files: Record<string, string>;
  /** File (relative to the entry directory, "" for the directory) the error must name. */
  file: string;
  /** Field path or phrase the error must contain. */
  field: string;
}

const yamlCase = (
  what: string,
  manifest: string,
  field: string,
  units: Record<string, string> = { "workload.service": OK_UNIT },
): BadCase => ({
  what,
  files: { "workload.yaml": manifest, ...units },
  file: "workload.yaml",
  field,
});
const roles = { "server.service": OK_UNIT, "client.service": OK_UNIT };

const CASES: BadCase[] = [
  yamlCase("malformed YAML (unclosed flow list)", "params: [\n", "malformed YAML"),
  yamlCase("malformed YAML (bad indentation)", "roles:\n  - name: a\n bad: x\n", "malformed YAML"),
  yamlCase("duplicate keys", "packages: [a]\npackages: [b]\n", "Map keys must be unique"),
  yamlCase("top level is a list", "- a\n", "the top level must be a map"),
  yamlCase("unknown top-level key", "servce: {}\n", 'servce: unknown key (did you mean "service"?)'),
  yamlCase("packages is a string", "packages: redis\n", "packages: must be a list"),
  yamlCase("package name with a space", "packages: ['redis server']\n", "packages[0]"),
  yamlCase("param without key", "params: [{default: 1}]\n", "params[0].key: is required"),
  yamlCase("param key in upper case", "params: [{key: Threads, default: 1}]\n", "params[0].key"),
  yamlCase(
    "duplicate param",
    "params: [{key: a, default: 1}, {key: a, default: 2}]\n",
    "params[1].key: duplicate param",
  ),
  yamlCase(
    "unknown param type",
    "params: [{key: a, type: float, default: 1}]\n",
    'params[0].type: unknown type "float"',
  ),
  yamlCase(
    "int default that is not an integer",
    "params: [{key: a, type: int, default: ten}]\n",
    "params[0].default",
  ),
  yamlCase(
    "bool default that is not a bool",
    "params: [{key: a, type: bool, default: maybe}]\n",
    "params[0].default",
  ),
  yamlCase("param default missing", "params: [{key: a, type: int}]\n", "params[0].default: is required"),
  yamlCase("roles is a map", "roles: {server: 1}\n", "roles: must be a list"),
  yamlCase("empty roles", "roles: []\n", "roles: must declare at least one role"),
  yamlCase(
    "duplicate roles",
    "roles: [{name: server}, {name: server}]\n",
    'roles[1].name: duplicate role "server"',
    roles,
  ),
  yamlCase("role name not a DNS label", "roles: [{name: Web_Server}]\n", "roles[0].name", roles),
  yamlCase("negative role vm-count", "roles: [{name: server, vm-count: -2}]\n", "roles[0].vm-count", roles),
  yamlCase(
    "role vm-count not a number",
    "roles: [{name: server, vm-count: many}]\n",
    "roles[0].vm-count",
    roles,
  ),
  yamlCase(
    "missing role unit file",
    "roles: [{name: server}, {name: client}]\n",
    'roles[1].name: role "client" has no unit file',
    { "server.service": OK_UNIT },
  ),
  yamlCase(
    "storage name reserved",
    "storage: [{name: containerdisk, serial: s, mount: /mnt/m}]\n",
    "storage[0].name",
  ),
  yamlCase(
    "bad storage size",
    "storage: [{name: d, size: ten-gigs, serial: s, mount: /mnt/m}]\n",
    "storage[0].size",
  ),
  yamlCase(
    "storage size in plain bytes too small",
    "storage: [{name: d, size: 1024, serial: s, mount: /mnt/m}]\n",
    "storage[0].size",
  ),
  yamlCase(
    "storage size with a wrong unit",
    "storage: [{name: d, size: 10GB, serial: s, mount: /mnt/m}]\n",
    "storage[0].size",
  ),
  yamlCase(
    "storage serial too long",
    "storage: [{name: d, serial: virtwork-redis-data-disk, mount: /mnt/m}]\n",
    "storage[0].serial",
  ),
  yamlCase(
    "storage serial missing",
    "storage: [{name: d, mount: /mnt/m}]\n",
    "storage[0].serial: is required",
  ),
  yamlCase("storage mount relative", "storage: [{name: d, serial: s, mount: var/lib}]\n", "storage[0].mount"),
  yamlCase(
    "duplicate storage",
    "storage: [{name: d, serial: s, mount: /a}, {name: d, serial: t, mount: /b}]\n",
    "storage[1].name",
  ),
  yamlCase(
    "service without ports",
    "service: {selector-role: server}\n",
    "service.ports: must declare at least one port",
  ),
  yamlCase("port 0", "service: {ports: [{name: web, port: 0}]}\n", "service.ports[0].port"),
  yamlCase("port above 65535", "service: {ports: [{name: web, port: 65536}]}\n", "service.ports[0].port"),
  yamlCase("port as text", "service: {ports: [{name: web, port: http}]}\n", "service.ports[0].port"),
  yamlCase(
    "port protocol SCTP",
    "service: {ports: [{name: web, port: 80, protocol: sctp}]}\n",
    "service.ports[0].protocol",
  ),
  yamlCase(
    "duplicate ports",
    "service: {ports: [{name: a, port: 80}, {name: b, port: 80}]}\n",
    "service.ports[1].port",
  ),
  yamlCase(
    "selector-role not a declared role",
    "roles: [{name: server}]\nservice: {ports: [{name: a, port: 80}], selector-role: db}\n",
    "service.selector-role",
    { "server.service": OK_UNIT },
  ),
  {
    what: "no .service files",
    files: { "workload.yaml": "description: x\n", "README.md": "hi" },
    file: "",
    field: "no .service files",
  },
  { what: "empty unit file", files: { "workload.service": "" }, file: "workload.service", field: "is empty" },
  {
    what: "unit without ExecStart",
    files: { "workload.service": "[Service]\nType=simple\n" },
    file: "workload.service",
    field: "no ExecStart=",
  },
  {
    what: "unit with CRLF line endings",
    files: { "workload.service": OK_UNIT.replace(/\n/g, "\r\n") },
    file: "workload.service",
    field: "CRLF",
  },
  {
    what: "undeclared placeholder",
    files: { "workload.service": unit("/bin/x {{threads}}") },
    file: "workload.service:5",
    field: "placeholder {{threads}}",
  },
  {
    what: "workload.yml instead of workload.yaml",
    files: { "workload.yml": "description: x\n", "workload.service": OK_UNIT },
    file: "workload.yml",
    field: "rename it to workload.yaml",
  },
];

const entries: Record<string, Record<string, string>> = {};
const names = CASES.map((_, i) => `bad-${String(i).padStart(2, "0")}`);
for (const [i, c] of CASES.entries()) entries[names[i] ?? ""] = c.files;
entries.good = {
  "workload.yaml": "params: [{key: n, type: int, default: 1}, {key: unused, default: x}]\n",
  "workload.service": unit("/bin/x {{n}}"),
};
entries.Invalid_Name = { "workload.service": OK_UNIT };
entries.cpu = { "workload.service": OK_UNIT };
entries[".git"] = { "config.service": "" };
const catalog = makeCatalog(entries);
after(() => catalog.remove());

function assertUsageError(r: { status: number | null; stdout: string; stderr: string }, ...parts: string[]) {
  assert.equal(r.status, 2, `exit 2; stderr: ${r.stderr}`);
  assert.equal(r.stdout, "", "nothing on stdout");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0] ?? "", /^Error: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  for (const part of parts)
    assert.ok(lines[0]?.includes(part), `stderr names ${JSON.stringify(part)}: ${lines[0]}`);
}

describe(`bad catalog entries (built CLI, ${CASES.length} cases): exit 2, one line naming file and field`, () => {
  for (const [i, c] of CASES.entries()) {
    it(c.what, () => {
      const name = names[i] ?? "";
      const r = virtwork(["run", "--dry-run", "--catalog-dir", catalog.dir, "--from-catalog", name]);
      const file = c.file === "" ? `${catalog.dir}/${name}:` : `${catalog.dir}/${name}/${c.file}`;
      assertUsageError(r, `catalog entry "${name}"`, file, c.field);
    });
  }

  it("an invalid entry name, a built-in name and a missing entry", () => {
    assertUsageError(
      virtwork(["run", "--dry-run", "--catalog-dir", catalog.dir, "--from-catalog", "Invalid_Name"]),
      "DNS-1123",
    );
    assertUsageError(
      virtwork(["run", "--dry-run", "--catalog-dir", catalog.dir, "--from-catalog", "cpu"]),
      '"cpu" is a built-in workload',
    );
    assertUsageError(
      virtwork(["run", "--dry-run", "--catalog-dir", catalog.dir, "--from-catalog", "godo"]),
      "no directory",
      '(did you mean "good"?)',
    );
  });
});

describe("symlinks and special files in a catalog (issue 32): exit 2 naming the file", () => {
  const cat = makeCatalog({
    inside: { "workload.yaml": "packages: []\n", "workload.service": OK_UNIT },
    "unit-link": { "workload.yaml": "packages: []\n" },
    "dir-link-target": { "workload.service": OK_UNIT },
    "fifo-unit": { "workload.yaml": "packages: []\n" },
  });
  after(() => cat.remove());
  const outside = mkdtempSync(join(tmpdir(), "virtwork-outside-"));
  writeFileSync(join(outside, "evil.service"), OK_UNIT);
  mkdirSync(join(outside, "entry"));
  writeFileSync(join(outside, "entry", "workload.service"), OK_UNIT);
  after(() => rmSync(outside, { recursive: true, force: true }));
  // a unit file that is a symlink out of the catalog, an entry directory that is one,
  // a unit that is a FIFO (reading it would block forever), and a symlink that stays inside
  symlinkSync(join(outside, "evil.service"), join(cat.dir, "unit-link", "workload.service"));
  symlinkSync(join(outside, "entry"), join(cat.dir, "dir-link"));
  execFileSync("mkfifo", [join(cat.dir, "fifo-unit", "workload.service")]);
  symlinkSync(join(cat.dir, "dir-link-target"), join(cat.dir, "inner-link"));
  const run = (name: string) =>
    virtwork(["run", "--dry-run", "--catalog-dir", cat.dir, "--from-catalog", name]);

  it("a unit file that links out of the catalog", () => {
    assertUsageError(
      run("unit-link"),
      `${cat.dir}/unit-link/workload.service`,
      `is a symlink to ${realpathSync(join(outside, "evil.service"))}, outside the catalog directory`,
    );
  });
  it("an entry directory that links out of the catalog", () => {
    assertUsageError(
      run("dir-link"),
      `${cat.dir}/dir-link`,
      "the entry directory is a symlink to",
      "outside the catalog directory",
    );
  });
  it("a unit file that is a FIFO is refused, not read (no hang)", () => {
    assertUsageError(run("fifo-unit"), `${cat.dir}/fifo-unit/workload.service`, "cannot read: is a FIFO");
  });
  it("a symlink that stays inside the catalog is followed", () => {
    const r = run("inner-link");
    assert.equal(r.status, 0, r.stderr);
    assert.ok(parseAllDocuments(r.stdout).length > 0);
  });
});

describe("validate and workloads with a catalog (built CLI)", () => {
  it("validate <entry>: OK line, unused-param warning, then the plan summary", () => {
    const r = virtwork(["validate", "--catalog-dir", catalog.dir, "good"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      'WARN  good: param "unused" is not used in any unit file',
      "OK    good",
      "OK: configuration is valid: 1 VMs in namespace virtwork: good×1",
    ]);
  });

  it("validate with no names checks every entry, skipping hidden directories; FAIL lines and exit 2", () => {
    const r = virtwork(["validate", "--workloads", "cpu"], { env: { VIRTWORK_CATALOG_DIR: catalog.dir } });
    assert.equal(r.status, 2);
    const lines = r.stdout.trim().split("\n");
    assert.ok(lines.includes("OK    good"));
    assert.ok(!lines.some((l) => l.includes(".git")), "hidden directories are not entries");
    assert.ok(lines.some((l) => l.startsWith("FAIL  cpu: ") && l.includes("built-in")));
    assert.ok(lines.some((l) => l.startsWith("FAIL  bad-00: ") && l.includes("malformed YAML")));
    const failed = new Set(lines.filter((l) => l.startsWith("FAIL")).map((l) => l.split(":")[0]));
    assert.equal(failed.size, CASES.length + 2);
    assert.match(
      r.stderr,
      new RegExp(`^Error: ${CASES.length + 2} of ${CASES.length + 3} catalog entries are invalid`),
    );
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  it("validate checks params of the entry against its schema", () => {
    const r = virtwork(["validate", "--catalog-dir", catalog.dir, "good", "--params", "good.nn=3"]);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^Error: --params good\.nn: unknown param "nn" for workload "good" \(did you mean "n"\?\)/,
    );
  });

  it("validate takes the catalog directory from the config file", () => {
    const goodOnly = makeCatalog({ good: entries.good ?? {} });
    const cfg = makeCatalog({
      cfg: { "virtwork.yaml": `catalog-dir: ${goodOnly.dir}\nfrom-catalog: [good]\n` },
    });
    try {
      const r = virtwork(["validate", "--config", `${cfg.dir}/cfg/virtwork.yaml`]);
      assert.match(r.stdout, /^OK {4}good$/m);
      assert.match(r.stdout, /good×1$/m);
    } finally {
      cfg.remove();
      goodOnly.remove();
    }
  });

  it("workloads lists catalog entries beside the built-ins with their source", () => {
    const r = virtwork(["workloads", "-o", "json", "--catalog-dir", catalog.dir]);
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout) as {
      name: string;
      source: string;
      error?: string;
      params: { name: string }[];
    }[];
    assert.equal(list.filter((w) => w.source === "builtin").length, 9);
    const good = list.find((w) => w.name === "good");
    assert.equal(good?.source, "catalog");
    assert.deepEqual(
      good?.params.map((p) => p.name),
      ["n", "unused"],
    );
    assert.match(list.find((w) => w.name === "bad-30")?.error ?? "", /service\.ports\[0\]\.port/);
    const table = virtwork(["workloads", "--catalog-dir", catalog.dir]).stdout;
    assert.match(table, /^good\s+catalog\s+/m);
    assert.match(table, /^cpu\s+default\s+/m);
  });

  it("a valid entry deploys with --from-catalog (dry-run YAML on stdout)", () => {
    const r = virtwork(["run", "--dry-run", "--catalog-dir", catalog.dir, "--from-catalog", "good"]);
    assert.equal(r.status, 0, r.stderr);
    const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as { kind: string }).kind);
    assert.deepEqual(kinds, ["Namespace", "Secret", "VirtualMachine"]);
  });
});
