/**
 * Catalog entries cannot reach past their own lane (issue 15), checked with the real tools:
 *
 * - Injection: each of the 12 values of the issue, pasted raw into redis-bench's client unit,
 *   really changes what systemd or bash would run (shown by parsing the unit and running its
 *   `bash -c` script against stub commands); the loader refuses every one of them. Values
 *   the rules accept run the script with exactly that one argument.
 * - Unit names: every unit the guest OS packages of this machine ship (dpkg -L) is refused.
 * - Mount points: system directories are refused, allowed roots render a disk setup that
 *   shellcheck accepts.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadConfig } from "../../../src/config/load.ts";
import { UsageError } from "../../../src/errors.ts";
import { unitNameProblem } from "../../../src/workloads/catalog/entry.ts";
import { substitute } from "../../../src/workloads/catalog/placeholders.ts";
import { openCatalog } from "../../../src/workloads/catalog/source.ts";
import { makeCatalog, unit } from "../../../src/workloads/catalog/testing.ts";
import { fedora } from "../../../src/workloads/guest.ts";
import { createRegistry } from "../../../src/workloads/registry.ts";
import { guestOf } from "../../../src/workloads/types.ts";
import { INJECTIONS } from "../../unit/catalog/injections.ts";
import { CATALOG_DIR, render } from "./cases.ts";
import { needTools, parseUnit, runSync, tempDir } from "./tools.ts";

const CLIENT_UNIT = readFileSync(join(CATALOG_DIR, "redis-bench", "client.service"), "utf8");
const DEFAULTS = {
  "num-clients": "10",
  "num-requests": "100000",
  "data-size": "256",
  "pipeline-size": "1",
  "loop-delay": "30",
  maxmemory: "256mb",
};

/** The program of `/bin/bash -c '…'` as systemd hands it to bash (it strips the quotes). */
function bashProgram(unitText: string): string | undefined {
  const exec = parseUnit(unitText).filter((e) => e.section === "Service" && e.key === "ExecStart");
  if (exec.length !== 1) return undefined;
  return /^\/bin\/bash -c '([^']*)'$/.exec(exec[0]?.value ?? "")?.[1];
}

const sandbox = tempDir("catalog-rules");
after(() => sandbox.remove());

/**
 * Runs a client program against stubs: redis-cli answers, redis-benchmark records its argv
 * (one argument per line), `reboot` leaves a marker, and `sleep` ends the loop.
 */
function runAgainstStubs(
  program: string,
  name: string,
): { argv: string[]; rebooted: boolean; code: number | null } {
  const dir = join(sandbox.path, name.replace(/[^a-z0-9]+/gi, "-"));
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const stub = (cmd: string, body: string) => {
    writeFileSync(join(bin, cmd), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, cmd), 0o755);
  };
  stub("redis-cli", "exit 0");
  stub("redis-benchmark", `printf '%s\\n' "$@" > "${dir}/argv"`);
  stub("reboot", `touch "${dir}/rebooted"`);
  // Ends the endless loop by killing its bash; a `sleep` bash exec'd as its last command
  // has this test as its parent, which it leaves alone.
  stub("sleep", '[ "$PPID" != "$VW_TEST_PID" ] && kill -TERM "$PPID"; exit 0');
  const r = runSync("bash", ["-c", program], {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, VW_TEST_PID: String(process.pid) },
    cwd: dir,
    timeoutMs: 10_000,
  });
  const argvFile = join(dir, "argv");
  return {
    argv: existsSync(argvFile) ? readFileSync(argvFile, "utf8").split("\n").slice(0, -1) : [],
    rebooted: existsSync(join(dir, "rebooted")),
    code: r.code,
  };
}

/** The argument that follows `-t` in a redis-benchmark argv. */
const testsArg = (argv: string[]) => argv[argv.indexOf("-t") + 1];

describe("catalog injection: what each raw value would do, and that it is refused", () => {
  test("the stubs work: the shipped default runs redis-benchmark with -t set,get", () => {
    const program = bashProgram(substitute(CLIENT_UNIT, { ...DEFAULTS, "test-mode": "set,get" }));
    assert.ok(program, "the default unit has one bash -c ExecStart");
    const r = runAgainstStubs(program, "default");
    assert.equal(testsArg(r.argv), "set,get");
    assert.equal(r.rebooted, false);
  });

  for (const [name, value] of INJECTIONS) {
    test(`${name}: pasted raw it changes the unit or the command; the loader refuses it`, () => {
      const raw = substitute(CLIENT_UNIT, { ...DEFAULTS, "test-mode": value });
      const program = bashProgram(raw);
      const extraKeys = parseUnit(raw).length !== parseUnit(CLIENT_UNIT).length;
      let harm: string;
      if (extraKeys) harm = "adds unit settings";
      else if (program === undefined) harm = "breaks the ExecStart quoting";
      else if (runSync("bash", ["-n"], { input: program }).code !== 0) harm = "breaks the script";
      else {
        const r = runAgainstStubs(program, name);
        harm = r.rebooted
          ? "runs reboot"
          : testsArg(r.argv) !== value
            ? `passes ${JSON.stringify(r.argv)}`
            : "";
      }
      assert.notEqual(harm, "", `raw ${JSON.stringify(value)} would be harmless: the case proves nothing`);

      assert.throws(
        () =>
          loadConfig({
            flags: {
              "catalog-dir": CATALOG_DIR,
              "from-catalog": ["redis-bench"],
              params: [`redis-bench.test-mode=${value}`],
            },
            env: {},
            registry: createRegistry(),
            openCatalog,
          }),
        (err) => err instanceof UsageError && /--params redis-bench\.test-mode: value /.test(err.message),
        `${harm}, and must be refused`,
      );
    });
  }

  test("accepted values reach redis-benchmark as exactly one argument, through the real plan", () => {
    for (const value of ["set,get", "ping_inline,lrange_100,xadd", "mset"]) {
      const [client] = render("redis-bench", { "test-mode": value }).filter((r) => r.role === "client");
      const file = client?.guest.files.find((f) => f.path.endsWith("/client.service"));
      assert.ok(file);
      const program = bashProgram(file.content);
      assert.ok(program);
      const r = runAgainstStubs(program, `ok-${value}`);
      assert.equal(testsArg(r.argv), value);
      assert.equal(r.rebooted, false);
    }
  });

  test("a plain string param: every safe character arrives verbatim, as one word", () => {
    const cat = makeCatalog({
      plain: {
        "workload.yaml":
          "params:\n  - {key: word, type: string, default: a}\n  - {key: items, type: list, default: a;b}\n",
        "workload.service": unit(`/bin/bash -c 'redis-benchmark -t {{word}} -l "{{items}}"; sleep 1'`),
      },
    });
    try {
      const word = "a.b_c:d/e@f+g=h,i-j";
      const { config, registry } = loadConfig({
        flags: {
          "catalog-dir": cat.dir,
          "from-catalog": ["plain"],
          params: [`plain.word=${word}`, "plain.items=x;y=z;w"],
        },
        env: {},
        registry: createRegistry(),
        openCatalog,
      });
      const w = registry.get("plain");
      assert.ok(w);
      const built = w.build({
        namespace: "virtwork",
        params: config.workloads[0]?.params ?? {},
        guest: fedora,
      });
      const text =
        (built.roles[0] ? guestOf(built.roles[0], 0) : undefined)?.files.find((f) =>
          f.path.endsWith("workload.service"),
        )?.content ?? "";
      const program = bashProgram(text);
      assert.ok(program, text);
      const r = runAgainstStubs(program, "plain");
      assert.deepEqual(r.argv, ["-t", word, "-l", "x;y=z;w"]);
      assert.equal(r.rebooted, false);
    } finally {
      cat.remove();
    }
  });
});

/** Units that the OS packages installed here ship: what a guest already has. */
function osUnits(): string[] {
  const packages = [
    "systemd",
    "systemd-timesyncd",
    "cloud-init",
    "dbus",
    "e2fsprogs",
    "util-linux",
    "apt",
    "dpkg",
    "man-db",
  ];
  const units = new Set<string>();
  for (const pkg of packages) {
    const r = runSync("dpkg", ["-L", pkg]);
    if (r.code !== 0) continue;
    for (const line of r.stdout.split("\n")) {
      const m = /\/systemd\/system\/([^/]+\.service)$/.exec(line);
      if (m?.[1]) units.add(m[1]);
    }
  }
  return [...units].sort();
}

describe("catalog unit names never shadow the guest's units", { skip: needTools("dpkg") }, () => {
  const units = osUnits();
  test(`${units.length} units shipped by the OS packages here are refused as catalog unit names`, () => {
    assert.ok(units.length >= 50, `found ${units.length}`);
    const allowed = units.filter((u) => !u.includes("@") && unitNameProblem(u) === undefined);
    assert.deepEqual(allowed, [], "OS units a catalog entry could replace");
  });

  test("the entry loader refuses them with the file named (sshd, ssh, getty, cloud-init, …)", () => {
    for (const name of [
      "sshd.service",
      "ssh.service",
      "systemd-logind.service",
      "getty.service",
      "cloud-init.service",
      "qemu-guest-agent.service",
      "NetworkManager.service",
      "dbus.service",
      "chronyd.service",
      "crond.service",
    ]) {
      const cat = makeCatalog({ evil: { [name]: unit() } });
      try {
        assert.throws(
          () =>
            loadConfig({
              flags: { "catalog-dir": cat.dir, "from-catalog": ["evil"] },
              env: {},
              registry: createRegistry(),
              openCatalog,
            }),
          (err) =>
            err instanceof UsageError &&
            err.message.startsWith('catalog entry "evil"') &&
            err.message.includes(`evil/${name}`) &&
            err.message.includes("a unit the guest OS ships"),
        );
      } finally {
        cat.remove();
      }
    }
  });
});

describe("catalog data disks mount only under /mnt, /srv, /opt, /var/lib/<name>", () => {
  const refused = [
    "/",
    "/etc",
    "/usr",
    "/usr/local",
    "/boot",
    "/var",
    "/var/log",
    "/proc",
    "/sys",
    "/dev",
    "/run",
    "/root",
    "/home",
    "/home/u",
    "/tmp",
    "/mnt",
    "/var/lib",
    "/var/lib/dpkg",
    "/var/lib/systemd/x",
    "/var/lib/cloud",
    "/mnt/../etc",
    "/opt/./x",
  ];
  for (const mount of refused) {
    test(`${mount} is refused naming the entry and storage[0].mount`, () => {
      const cat = makeCatalog({
        disky: {
          "workload.yaml": `storage: [{name: d, serial: vw-d, mount: "${mount}"}]\n`,
          "workload.service": unit(),
        },
      });
      try {
        assert.throws(
          () =>
            loadConfig({
              flags: { "catalog-dir": cat.dir, "from-catalog": ["disky"] },
              env: {},
              registry: createRegistry(),
              openCatalog,
            }),
          (err) =>
            err instanceof UsageError &&
            /^catalog entry "disky": .*workload\.yaml:1: storage\[0\]\.mount: /.test(err.message),
        );
      } finally {
        cat.remove();
      }
    });
  }

  test("allowed roots render a disk setup script that shellcheck accepts", {
    skip: needTools("shellcheck"),
  }, () => {
    for (const mount of ["/mnt/data", "/srv/www", "/opt/bench/data", "/var/lib/redis"]) {
      const cat = makeCatalog({
        disky: {
          "workload.yaml": `storage: [{name: d, serial: vw-d, mount: "${mount}"}]\n`,
          "workload.service": unit(),
        },
      });
      try {
        const { registry } = loadConfig({
          flags: { "catalog-dir": cat.dir, "from-catalog": ["disky"] },
          env: {},
          registry: createRegistry(),
          openCatalog,
        });
        const w = registry.get("disky");
        assert.ok(w);
        const built = w.build({ namespace: "virtwork", params: {}, guest: fedora });
        const script =
          (built.roles[0] ? guestOf(built.roles[0], 0) : undefined)?.files.find((f) =>
            f.path.includes("disk-setup"),
          )?.content ?? "";
        assert.match(script, new RegExp(`MOUNT_POINT="${mount}"`));
        const sc = runSync("shellcheck", ["-s", "bash", "-"], { input: script });
        assert.equal(sc.code, 0, sc.stdout);
      } finally {
        cat.remove();
      }
    }
  });
});
