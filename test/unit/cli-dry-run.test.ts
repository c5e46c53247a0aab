import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { passwordMatches, SHA512_CRYPT } from "../../src/cloudinit/password.ts";
import { BUILTIN_WORKLOADS } from "../../src/workloads/registry.ts";
import { BIN, cleanEnv, ensureBuilt, virtwork } from "./cli.ts";

interface Obj {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  stringData?: { userdata: string };
}

function documents(stdout: string): Obj[] {
  return parseAllDocuments(stdout).map((d) => {
    assert.equal(d.errors.length, 0, String(d.errors[0]));
    return d.toJS() as Obj;
  });
}
const count = (objs: Obj[]) =>
  objs.reduce<Record<string, number>>((acc, o) => {
    acc[o.kind] = (acc[o.kind] ?? 0) + 1;
    return acc;
  }, {});

describe("virtwork run --dry-run (built CLI)", () => {
  it("prints the default plan as multi-document YAML and only that on stdout", () => {
    const r = virtwork(["run", "--dry-run"]);
    assert.equal(r.status, 0, r.stderr);
    const objs = documents(r.stdout);
    assert.deepEqual(count(objs), { Namespace: 1, Service: 2, Secret: 8, VirtualMachine: 8 });
    const runIds = new Set(objs.map((o) => o.metadata.labels?.["virtwork/run-id"]));
    assert.equal(runIds.size, 1);
    assert.match([...runIds][0] ?? "", /^[0-9a-f-]{36}$/);
    for (const line of r.stderr.trim().split("\n")) JSON.parse(line); // logs are JSON lines on stderr
  });

  it("a fresh run id each run", () => {
    const id = () =>
      documents(virtwork(["run", "--dry-run", "-w", "cpu"]).stdout)[0]?.metadata.labels?.["virtwork/run-id"];
    assert.notEqual(id(), id());
  });

  it("--workloads all → 11 VMs; --vm-count 3 --workloads network → 6 VMs, 1 Service", () => {
    assert.equal(
      count(documents(virtwork(["run", "--dry-run", "--workloads", "all"]).stdout)).VirtualMachine,
      11,
    );
    const objs = documents(
      virtwork(["run", "--dry-run", "--vm-count", "3", "--workloads", "network"]).stdout,
    );
    assert.deepEqual(count(objs), { Namespace: 1, Service: 1, Secret: 6, VirtualMachine: 6 });
  });

  it("shows the VM shape for real clusters and each client's own server", () => {
    const r = virtwork(["run", "--dry-run", "-o", "json", "-w", "database,network", "--vm-count", "2"]);
    assert.equal(r.status, 0, r.stderr);
    type Vm = {
      kind: string;
      metadata: { name: string };
      spec: { template: { spec: Record<string, unknown> & { domain: Record<string, unknown> } } };
    };
    const items = (JSON.parse(r.stdout) as { items: Vm[] }).items;
    const vms = new Map(items.filter((o) => o.kind === "VirtualMachine").map((v) => [v.metadata.name, v]));
    const db = vms.get("virtwork-database-0")?.spec.template.spec;
    assert.equal(db?.evictionStrategy, "LiveMigrateIfPossible");
    assert.equal(db?.terminationGracePeriodSeconds, 180);
    assert.deepEqual(db?.domain.memory, { guest: "2Gi" });
    assert.deepEqual(db?.domain.resources, { requests: { cpu: "2" } });
    assert.ok(db);
    assert.deepEqual((db.domain.devices as { rng?: unknown }).rng, {});
    const server1 = vms.get("virtwork-network-server-1")?.spec.template.spec;
    assert.deepEqual(
      [server1?.hostname, server1?.subdomain],
      ["virtwork-network-server-1", "virtwork-iperf3-server"],
    );
    const client1 = items.find(
      (o) => o.metadata.name === "virtwork-network-client-1-cloudinit",
    ) as unknown as Obj;
    assert.match(
      client1.stringData?.userdata ?? "",
      /iperf3 -c virtwork-network-server-1\.virtwork-iperf3-server\.virtwork\.svc\.cluster\.local /,
    );
  });

  it("--guest-os alone boots that OS's containerdisk", () => {
    const r = virtwork(["run", "--dry-run", "-o", "json", "-w", "cpu", "--guest-os", "ubuntu"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /"image": "quay\.io\/containerdisks\/ubuntu:24\.04"/);
  });

  it("-o json prints one List", () => {
    const r = virtwork(["run", "--dry-run", "-o", "json", "-w", "cpu,memory"]);
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout);
    assert.equal(list.kind, "List");
    assert.deepEqual(
      list.items.map((o: Obj) => o.kind),
      ["Namespace", "Secret", "Secret", "VirtualMachine", "VirtualMachine"],
    );
  });

  it("never contacts a cluster: a missing kubeconfig does not matter", () => {
    const r = virtwork(["run", "--dry-run", "--kubeconfig", "/nonexistent/kubeconfig", "-w", "cpu"]);
    assert.equal(r.status, 0, r.stderr);
  });

  it("prints the SSH password only as its SHA-512 crypt hash, ready to apply", () => {
    const env = { VIRTWORK_SSH_PASSWORD: "correct-horse-battery" };
    const r = virtwork(["run", "--dry-run", "-w", "cpu"], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes("correct-horse-battery"));
    assert.ok(!r.stderr.includes("correct-horse-battery"));
    assert.ok(!r.stdout.includes("redacted"), "nothing a guest would take as its password");
    const secret = documents(r.stdout).find((o) => o.kind === "Secret");
    const user = parse(secret?.stringData?.userdata ?? "", { version: "1.1" }).users[1];
    assert.match(user.hashed_passwd, SHA512_CRYPT);
    assert.ok(passwordMatches("correct-horse-battery", user.hashed_passwd));
    assert.equal(user.plain_text_passwd, undefined);
  });

  it("--ssh-password works but warns on stderr that other users can see it", () => {
    const r = virtwork(["run", "--dry-run", "-w", "cpu", "--ssh-password", "correct-horse-battery"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /--ssh-password: the password is visible to other users/);
    assert.ok(!r.stderr.includes("correct-horse-battery"));
    assert.ok(!r.stdout.includes("correct-horse-battery"));
  });

  it("without --dry-run and without any cluster configuration it says so (exit 2), never guessing an address", () => {
    const r = virtwork(["run", "-w", "cpu"], { env: { HOME: "/nonexistent-home", KUBECONFIG: "" } });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^Error: no cluster configuration found: pass --kubeconfig/m);
  });
});

describe("other commands", () => {
  it("no arguments prints help and exits 0", () => {
    const r = virtwork([]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: virtwork/);
  });

  it("version", () => {
    const text = virtwork(["version"]);
    assert.match(text.stdout, /^virtwork \d+\.\d+\.\d+ \(commit \S+, built \S+, node v\d+/);
    const json = JSON.parse(virtwork(["version", "-o", "json"]).stdout);
    assert.match(json.version, /^\d+\.\d+\.\d+$/);
  });

  it("workloads lists every built-in workload with every param's name, type, default and description", () => {
    const r = virtwork(["workloads", "-o", "json"]);
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout) as {
      name: string;
      default: boolean;
      params: Record<string, string>[];
    }[];
    assert.deepEqual(
      list.map((w) => w.name),
      BUILTIN_WORKLOADS.map((w) => w.name),
    );
    assert.deepEqual(
      list.filter((w) => !w.default).map((w) => w.name),
      BUILTIN_WORKLOADS.filter((w) => w.optIn).map((w) => w.name),
    );
    for (const w of list)
      for (const p of w.params) assert.deepEqual(Object.keys(p), ["name", "type", "default", "description"]);
    const table = virtwork(["workloads"]).stdout;
    assert.match(table, /^NAME\s+SELECTED\s+ROLES\s+PARAMS\s+DESCRIPTION\n/);
    for (const line of table.trimEnd().split("\n")) assert.ok(line.length <= 100, `wider than 100: ${line}`);
    assert.match(virtwork(["workloads", "cpu"]).stdout, /^cpu-load-percent\s+int\s+100\s/m);
    assert.match(virtwork(["workloads", "-o", "wide"]).stdout, /cpu-load-percent=100/);
    assert.equal(virtwork(["workloads", "-o", "name"]).stdout.split("\n")[0], "cpu");
  });

  it("validate reports a valid configuration and fails bad params with exit 2", () => {
    const ok = virtwork(["validate", "--workloads", "network", "--vm-count", "2"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^OK: configuration is valid: 4 VMs in namespace virtwork: network×4/);
    const bad = virtwork(["validate", "database", "--params", "database.clients=0"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^Error: --params database\.clients: value "0" must be between 1 and 1000/);
  });

  for (const shell of ["bash", "zsh", "fish"]) {
    it(`completion ${shell} is a script the shell accepts`, () => {
      const r = virtwork(["completion", shell]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /virtwork/);
      assert.match(r.stdout, /--dry-run/);
      if (shell === "bash") {
        const check = spawnSync("bash", ["-n"], { input: r.stdout, encoding: "utf8" });
        assert.equal(check.status, 0, check.stderr);
      }
    });
  }
  it("completion for an unknown shell is a usage error", () => {
    assert.equal(virtwork(["completion", "tcsh"]).status, 2);
  });
});

describe("a reader that stops early (issue 31: `run --dry-run | head`)", () => {
  it("ends quietly with the command's own exit code, no EPIPE error", async () => {
    ensureBuilt();
    const child = spawn(process.execPath, [BIN, "run", "--dry-run", "--vm-count", "300", "-o", "yaml"], {
      env: cleanEnv({}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    // like `head -1`: read one chunk, then close the pipe
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|broken pipe|Error/i);
  });
});
