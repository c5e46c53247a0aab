import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertAccepted,
  assertBashSyntax,
  assertCommonUnit,
  assertRejected,
  assertRestarts,
  buildWorkload,
  fileAt,
  roleUserData,
  runcmdIndex,
  shellVar,
  unitAt,
  unitValue,
} from "../testing.ts";
import { database } from "./database.ts";

const UNIT_PATH = "/etc/systemd/system/virtwork-database.service";
const SETUP = "/usr/local/bin/virtwork-db-setup.sh";

function render(params?: Record<string, string>) {
  const doc = roleUserData(buildWorkload(database, params ? { params } : {}));
  return {
    doc,
    script: fileAt(doc, SETUP).content,
    execStart: unitValue(unitAt(doc, UNIT_PATH), "Service", "ExecStart"),
  };
}

/** The pgbench command inside the unit's `bash -c` loop. */
function pgbenchArgs(execStart: string): string[] {
  const match = /do (pgbench [^;]+);/.exec(execStart);
  assert.ok(match, `ExecStart runs pgbench in a loop: ${execStart}`);
  return (match[1] ?? "").split(" ");
}

const after = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];

describe("database workload", () => {
  it("declares its params with types and defaults", () => {
    assert.equal(database.name, "database");
    assert.equal(database.optIn, false);
    assert.deepEqual(
      database.params.map((p) => [p.name, p.type, p.default]),
      [
        ["scale-factor", "int", "50"],
        ["clients", "int", "10"],
        ["duration", "int", "300"],
      ],
    );
  });

  it("installs PostgreSQL with pgbench and xfsprogs, and writes the setup script and the unit", () => {
    const { doc, script } = render();
    assert.deepEqual(doc.packages, ["postgresql-server", "postgresql-contrib", "xfsprogs"]);
    assert.deepEqual(
      doc.write_files.map((f) => [f.path, f.permissions]),
      [
        [SETUP, "0755"],
        [UNIT_PATH, "0644"],
      ],
    );
    assertBashSyntax(script, SETUP);
  });

  it("runs the setup as root from runcmd before daemon-reload and enable --now", () => {
    const { doc } = render();
    assert.deepEqual(doc.runcmd, [
      [SETUP],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "virtwork-database.service"],
    ]);
    // cloud-init runs runcmd as root: no user switch in front of the setup.
    assert.ok(runcmdIndex(doc, [SETUP]) < runcmdIndex(doc, ["systemctl", "daemon-reload"]));
    assert.ok(!doc.runcmd.flat().some((arg) => /^(sudo|runuser|su)$/.test(String(arg))));
  });

  it("runs ExecStartPre as root ('+') while the benchmark runs as postgres, after PostgreSQL", () => {
    const unit = unitAt(render().doc, UNIT_PATH);
    assertCommonUnit(unit, "Virtwork database benchmark workload");
    assert.equal(unitValue(unit, "Service", "User"), "postgres");
    assert.equal(unitValue(unit, "Service", "ExecStartPre"), `+${SETUP}`);
    assert.equal(unitValue(unit, "Unit", "Requires"), "postgresql.service");
    assert.deepEqual(unitValue(unit, "Unit", "After").split(" "), [
      "network.target",
      "local-fs.target",
      "postgresql.service",
    ]);
    assert.equal(unitValue(unit, "Service", "Type"), "simple");
    assertRestarts(unit);
  });

  it("initialises PostgreSQL on the data disk before starting it", () => {
    const { script } = render();
    assert.equal(shellVar(script, "DATA_DIR"), "/var/lib/pgsql/data");
    assert.equal(shellVar(script, "DISK"), "/dev/disk/by-id/virtio-virtwork-dbdisk");
    const lines = script.split("\n").map((l) => l.trim());
    const line = (pattern: RegExp) => {
      const i = lines.findIndex((l) => pattern.test(l));
      assert.ok(i >= 0, `setup script has a line matching ${pattern}`);
      return i;
    };
    const mount = line(/^mount "\$DISK" "\$DATA_DIR"$/);
    const chown = line(/^chown postgres:postgres "\$DATA_DIR"$/);
    const initdb = line(/^postgresql-setup --initdb$/);
    const start = line(/^systemctl enable --now postgresql\.service$/);
    const createdb = line(/createdb pgbench$/);
    const init = line(/pgbench -i -s 50 pgbench$/);
    assert.ok(mount < chown && chown < initdb && initdb < start && start < createdb && createdb < init);
    assert.deepEqual(
      lines.filter((l) => l.includes(">> /etc/fstab")),
      ['echo "$DISK $DATA_DIR xfs defaults,nofail 0 0" >> /etc/fstab'],
    );
    assert.ok(!/\bsudo\b/.test(script), "the setup runs as root and needs no sudo");
  });

  it("has a data disk with its own serial and DataVolume base, and no Service", () => {
    const output = buildWorkload(database);
    assert.deepEqual(output.dataDisks, [
      { name: "datadisk", serial: "virtwork-dbdisk", dataVolumeBase: "virtwork-database-data" },
    ]);
    assert.equal(output.service, undefined);
    assert.equal(output.roles.length, 1);
  });

  it("uses the defaults when no params are given", () => {
    const { execStart, script } = render();
    assert.equal(
      execStart,
      "/bin/bash -c 'while true; do pgbench -c 10 -j 2 -T 300 pgbench; sleep 10; done'",
    );
    assert.match(script, /pgbench -i -s 50 pgbench/);
  });

  it("puts every overridden param in its place", () => {
    const { execStart, script } = render({ "scale-factor": "7", clients: "4", duration: "60" });
    const argv = pgbenchArgs(execStart);
    assert.equal(after(argv, "-c"), "4");
    assert.equal(after(argv, "-T"), "60");
    assert.equal(after(argv, "-j"), "2");
    assert.match(script, /pgbench -i -s 7 pgbench/);
    assert.doesNotMatch(script, /-s 50/);
  });

  it("mixes overridden params with defaults", () => {
    const { execStart, script } = render({ clients: "25" });
    const argv = pgbenchArgs(execStart);
    assert.equal(after(argv, "-c"), "25");
    assert.equal(after(argv, "-T"), "300");
    assert.match(script, /pgbench -i -s 50 pgbench/);
  });

  it("validates its params", () => {
    assertAccepted(database, "scale-factor", "1");
    for (const bad of ["0", "100001", "1e3", "big"]) assertRejected(database, "scale-factor", bad);
    for (const bad of ["0", "1001", "-5"]) assertRejected(database, "clients", bad);
    for (const bad of ["0", "1.5", "5m"]) assertRejected(database, "duration", bad);
  });
});
