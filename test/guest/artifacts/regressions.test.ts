/**
 * Regression tests for the in-guest bugs of the Go original (reference §12): each fails if
 * its bug comes back.
 *   10 database: setup as root, PostgreSQL initialised before it is started
 *   11 chaos-network: the unit keeps the netem qdisc (oneshot + RemainAfterExit); see also
 *      chaos-network.test.ts, which runs the unit's lifecycle for real
 *    9 Service selectors scoped to their own workload
 *   12 tps: the server's file and the client's byte count agree, for K, M and G
 *   16 fstab uses the stable by-id path, and xfsprogs is installed; see also
 *      disk-setup.test.ts, which checks the line a real run writes
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { GuestFile } from "../../../src/cloudinit/guest-config.ts";
import { loadConfig } from "../../../src/config/load.ts";
import type { Service } from "../../../src/manifests/objects.ts";
import { plan } from "../../../src/plan/plan.ts";
import { DISK_SETUP_PATH } from "../../../src/workloads/disk-setup.ts";
import { fedora } from "../../../src/workloads/guest.ts";
import { RUN_ID, registry, render, vmsOf } from "./cases.ts";
import { attachLoop, type LoopDisk, loopSupport, q, sandbox, writeStubs } from "./sandbox.ts";
import { needTools, tempDir, unitValues, which } from "./tools.ts";

const SETUP = "/usr/local/bin/virtwork-db-setup.sh";
const DB_UNIT = "virtwork-database.service";

function file(files: GuestFile[], path: string): string {
  const f = files.find((x) => x.path === path || x.path.endsWith(`/${path}`));
  assert.ok(f, `no ${path}`);
  return f.content;
}

describe("bug 10: database setup runs as root and initialises PostgreSQL before starting it", () => {
  const [db] = render("database", {});
  const files = db?.guest.files ?? [];
  const unit = file(files, DB_UNIT);
  const script = file(files, SETUP);

  test("runcmd runs the setup (as root) before enabling the workload unit", () => {
    const runcmd = (db?.guest.runcmd ?? []).map((a) => a.join(" "));
    const setup = runcmd.indexOf(SETUP);
    const enable = runcmd.indexOf(`systemctl enable --now ${DB_UNIT}`);
    assert.ok(setup >= 0 && enable > setup, runcmd.join("\n"));
  });

  test("the unit's setup step runs with root privileges even though the unit runs as postgres", () => {
    const user = unitValues(unit, "Service", "User")[0] ?? "root";
    for (const pre of unitValues(unit, "Service", "ExecStartPre")) {
      if (user !== "root") assert.match(pre, /^[-@]*[+!]/, `ExecStartPre=${pre} would run as ${user}`);
    }
  });

  test("the script initialises the data directory before it starts PostgreSQL", () => {
    const lines = script.split("\n");
    const initdb = lines.findIndex((l) => l.includes(fedora.postgresql.initdb));
    const starts = lines
      .map((l, i) => [l, i] as const)
      .filter(([l]) => new RegExp(`systemctl (enable --now|start) ${fedora.postgresql.serviceUnit}`).test(l));
    assert.ok(initdb >= 0, "initdb is there");
    // The only start before initdb is the early exit taken once setup has completed.
    for (const [, i] of starts.filter(([, i]) => i < initdb)) {
      assert.match(lines.slice(i - 3, i).join("\n"), /if \[ -f "\$MARKER" \]/, "start before initdb");
    }
    assert.ok(
      starts.some(([, i]) => i > initdb),
      "PostgreSQL is started after initdb",
    );
  });

  const rootSkip = needTools("mkfs.xfs", "losetup", "unshare", "runuser") || loopSupport();
  describe("run for real on a loop device, PostgreSQL's commands stubbed", { skip: rootSkip }, () => {
    const dir = tempDir("database");
    let loop: LoopDisk;
    before(() => {
      loop = attachLoop(dir.path);
    });
    after(() => {
      loop?.detach();
      dir.remove();
    });

    test("order: mount, fstab, initdb as root, then start PostgreSQL, then pgbench init as postgres; rerun only starts", async () => {
      const log = join(dir.path, "calls.log");
      const record = `echo "$(id -un) $(basename "$0") $*" >> ${q(log)}`;
      const stubs = writeStubs(join(dir.path, "stubs"), {
        "postgresql-setup": `${record}\n[ "$(id -u)" = 0 ] || exit 1\necho 16 > ${fedora.postgresql.dataDir}/PG_VERSION`,
        systemctl: `${record}\n[ -f ${fedora.postgresql.dataDir}/PG_VERSION ] || { echo "started before initdb" >&2; exit 1; }`,
        // The real runuser, so the commands after it really run as postgres.
        runuser: `${record}\n[ "$1 $2 $3" = "-u postgres --" ] || exit 1\nexec ${which("runuser") ?? "/usr/sbin/runuser"} "$@"`,
        psql: record,
        createdb: record,
        pgbench: record,
      });
      const options = {
        dir: dir.path,
        disk: { device: loop.device, serial: "virtwork-dbdisk" },
        files: render("database", {})[0]?.guest.files ?? [],
        stubs,
        passwd: ["postgres:x:26:26:PostgreSQL Server:/var/lib/pgsql:/bin/bash"],
        group: ["postgres:x:26:"],
        binds: [[join(dir.path, "var-lib"), "/var/lib"]] as [string, string][],
      };
      mkdirSync(join(dir.path, "var-lib"), { recursive: true });
      // postgres must reach the stubs and the call log.
      writeFileSync(log, "");
      chmodSync(log, 0o666);
      chmodSync(dir.path, 0o755);
      const first = await sandbox(
        options,
        `${SETUP} >/dev/null; echo "exit=$?"; stat -c 'owner=%U mode=%a' ${fedora.postgresql.dataDir}; findmnt -n -o SOURCE --target ${fedora.postgresql.dataDir} | sed 's/^/mounted=/'`,
      );
      assert.match(first.stdout, /exit=0/, `${first.stdout}\n${first.stderr}`);
      assert.match(first.stdout, /owner=postgres mode=700/);
      assert.match(first.stdout, new RegExp(`mounted=${loop.device}`));
      const calls = readFileSync(log, "utf8").trim().split("\n");
      assert.deepEqual(calls, [
        "root postgresql-setup --initdb",
        `root systemctl enable --now ${fedora.postgresql.serviceUnit}`,
        `root runuser -u postgres -- psql -tAc SELECT 1 FROM pg_database WHERE datname = 'pgbench'`,
        "postgres psql -tAc SELECT 1 FROM pg_database WHERE datname = 'pgbench'",
        "root runuser -u postgres -- createdb pgbench",
        "postgres createdb pgbench",
        "root runuser -u postgres -- pgbench -i -s 50 pgbench",
        "postgres pgbench -i -s 50 pgbench",
      ]);
      assert.deepEqual(readFileSync(join(dir.path, "fstab"), "utf8").trim().split("\n"), [
        `/dev/disk/by-id/virtio-virtwork-dbdisk ${fedora.postgresql.dataDir} xfs defaults,nofail 0 0`,
      ]);
      assert.ok(statSync(join(dir.path, "var-lib/virtwork/database-initialized")).isFile());

      // The unit's ExecStartPre on a later start: the marker short-cuts to starting PostgreSQL.
      const again = await sandbox(options, `mount -a --fstab /etc/fstab; ${SETUP}; echo "exit=$?"`);
      assert.match(again.stdout, /exit=0/, `${again.stdout}\n${again.stderr}`);
      assert.match(again.stdout, /already initialized/);
      assert.equal(
        readFileSync(log, "utf8").trim().split("\n").at(-1),
        `root systemctl start ${fedora.postgresql.serviceUnit}`,
      );
    });
  });
});

describe("bug 11: chaos-network keeps its qdisc until the unit is stopped", () => {
  const [cn] = render("chaos-network", {});
  const unit = file(cn?.guest.files ?? [], "virtwork-chaos-network.service");
  test("Type=oneshot with RemainAfterExit=yes, tc in ExecStart, removal only in ExecStop", () => {
    assert.deepEqual(unitValues(unit, "Service", "Type"), ["oneshot"]);
    assert.deepEqual(unitValues(unit, "Service", "RemainAfterExit"), ["yes"]);
    assert.deepEqual(unitValues(unit, "Service", "Restart"), [], "no restart loop");
    const start = file(cn?.guest.files ?? [], unitValues(unit, "Service", "ExecStart")[0] ?? "");
    assert.doesNotMatch(start, /qdisc del/);
  });
});

describe("bug 9: Service selectors select only their own workload's servers", () => {
  test("default run plus chaos: each Service selects exactly its workload's server VMs", () => {
    const { config } = loadConfig({ flags: { workloads: "all", "vm-count": 2 }, env: {}, registry });
    const p = plan(config, registry, { runId: RUN_ID });
    const services = p.objects.filter((o): o is Service => o.kind === "Service");
    assert.ok(services.length >= 2, "network and tps both have a Service");
    const vms = vmsOf(p);
    for (const svc of services) {
      const selector = svc.spec?.selector ?? {};
      assert.ok(Object.keys(selector).length > 0);
      const selected = vms
        .filter((vm) => {
          const labels = vm.spec?.template?.metadata?.labels ?? {};
          return Object.entries(selector).every(([k, v]) => labels[k] === v);
        })
        .map((vm) => vm.metadata?.name);
      const workload = svc.metadata?.labels?.["app.kubernetes.io/component"];
      const own = p.vms.filter((v) => v.workload === workload && v.role === "server").map((v) => v.name);
      assert.ok(own.length > 0);
      assert.deepEqual(selected.sort(), own.sort(), `${svc.metadata?.name} selects ${selected.join(", ")}`);
    }
  });
});

describe("bug 12: tps server file and client byte count agree", () => {
  const sizes: Record<string, number> = {
    "1K": 1024,
    "512K": 524288,
    "10M": 10485760,
    "3M": 3145728,
    "1G": 1073741824,
  };
  for (const [param, bytes] of Object.entries(sizes)) {
    test(`file-size=${param} is ${bytes} bytes on both sides`, () => {
      const roles = render("tps", { "file-size": param });
      const server = roles.find((r) => r.role === "server")?.guest.files ?? [];
      const client = roles.find((r) => r.role === "client")?.guest.files ?? [];
      assert.match(file(server, "virtwork-tps-server.sh"), new RegExp(`head -c ${bytes} /dev/urandom`));
      assert.match(file(client, "virtwork-tps-client.sh"), new RegExp(`^FILE_SIZE_BYTES=${bytes}$`, "m"));
    });
  }

  const rootSkip =
    needTools("unshare") || (process.getuid?.() === 0 ? false : "needs root for a mount namespace");
  test("the server script really writes a file of the client's size (1K, 3M)", {
    skip: rootSkip,
  }, async () => {
    for (const param of ["1K", "3M"]) {
      const dir = tempDir("tps");
      try {
        const roles = render("tps", { "file-size": param });
        const server = roles.find((r) => r.role === "server")?.guest.files ?? [];
        const client = file(
          roles.find((r) => r.role === "client")?.guest.files ?? [],
          "virtwork-tps-client.sh",
        );
        const stubs = writeStubs(join(dir.path, "stubs"), { netserver: "exit 0", python3: "exit 0" });
        mkdirSync(join(dir.path, "srv"));
        const r = await sandbox(
          { dir: dir.path, files: server, stubs, binds: [[join(dir.path, "srv"), "/srv"]] },
          `/usr/local/bin/virtwork-tps-server.sh >/dev/null; echo "exit=$?"; stat -c 'size=%s' /srv/virtwork/testfile`,
        );
        assert.match(r.stdout, /exit=0/, r.stderr);
        const want = /^FILE_SIZE_BYTES=(\d+)$/m.exec(client)?.[1];
        assert.match(r.stdout, new RegExp(`size=${want}\\b`), `${param}: ${r.stdout}`);
      } finally {
        dir.remove();
      }
    }
  });
});

describe("bug 16: fstab names the disk by its stable by-id path; xfsprogs is installed", () => {
  for (const name of ["disk", "chaos-disk"]) {
    test(`${name}: the fstab line uses /dev/disk/by-id/virtio-<serial>`, () => {
      const [role] = render(name, {});
      const script = file(role?.guest.files ?? [], DISK_SETUP_PATH);
      const append = script.split("\n").find((l) => l.includes(">> /etc/fstab")) ?? "";
      assert.match(append, /^\s*echo "\$DISK /, append);
      assert.match(script, /^DISK="\/dev\/disk\/by-id\/virtio-virtwork-[a-z]+"$/m);
    });
  }
  test("database: the fstab line uses the by-id path", () => {
    const [role] = render("database", {});
    const append = file(role?.guest.files ?? [], SETUP)
      .split("\n")
      .find((l) => l.includes(">> /etc/fstab"));
    assert.match(append ?? "", /^\s*echo "\$DISK /);
  });
  for (const name of ["disk", "chaos-disk", "database"]) {
    test(`${name}: installs ${fedora.packages.xfs}`, () => {
      const [role] = render(name, {});
      assert.ok(role?.guest.packages.includes(fedora.packages.xfs));
    });
  }
});
