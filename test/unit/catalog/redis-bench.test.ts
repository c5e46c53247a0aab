import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { virtwork } from "../cli.ts";
import {
  assertExecScriptsClean,
  assertUnitsVerify,
  execStart,
  loadShipped,
  planShipped,
  unitText,
} from "./shipped.ts";

describe("catalog/redis-bench (server/client)", () => {
  it("loads without warnings; server and client roles, one disk, one Service", () => {
    const w = loadShipped("redis-bench");
    assert.deepEqual(w.entry.warnings, []);
    assert.deepEqual(w.entry.manifest.roles, [
      { name: "server", vmCount: 1 },
      { name: "client", vmCount: 0 },
    ]);
    assert.equal(w.params.find((p) => p.name === "test-mode")?.default, "set,get");
  });

  it("one server; clients follow --set redis-bench.vm-count (fixes reference bug 17)", () => {
    const { vms, plan } = planShipped("redis-bench", { set: ["redis-bench.vm-count=3"] });
    assert.deepEqual(
      vms.map((v) => [v.metadata?.name, v.metadata?.labels?.["virtwork/role"]]),
      [
        ["virtwork-redis-bench-server-0", "server"],
        ["virtwork-redis-bench-client-0", "client"],
        ["virtwork-redis-bench-client-1", "client"],
        ["virtwork-redis-bench-client-2", "client"],
      ],
    );
    assert.deepEqual(plan.workloads[0]?.roles, { server: 1, client: 3 });
  });

  it("the Service selects only this entry's servers, and the clients connect to its name", () => {
    const { services, userData } = planShipped("redis-bench");
    assert.equal(services.length, 1);
    const svc = services[0];
    assert.equal(svc?.metadata?.name, "virtwork-redis-bench");
    assert.deepEqual(svc?.spec?.selector, {
      "app.kubernetes.io/component": "redis-bench",
      "virtwork/role": "server",
    });
    assert.deepEqual(svc?.spec?.ports, [{ name: "redis", port: 6379, protocol: "TCP" }]);
    const client = execStart(unitText(userData("virtwork-redis-bench-client-0"), "client.service"));
    assert.match(client, new RegExp(`-h ${svc?.metadata?.name} -p 6379 `));
  });

  it("the data disk (serial vw-redis) is set up before the server starts, on /var/lib/redis", () => {
    const { vms, userData } = planShipped("redis-bench");
    const server = vms[0];
    assert.deepEqual(server?.spec?.template.spec?.domain.devices.disks?.[2], {
      name: "redis-data",
      serial: "vw-redis",
      disk: { bus: "virtio" },
    });
    assert.deepEqual(server?.spec?.dataVolumeTemplates?.[0]?.spec?.storage?.resources?.requests, {
      storage: "10Gi",
    });
    const doc = userData("virtwork-redis-bench-server-0");
    assert.deepEqual(doc.packages, ["redis", "xfsprogs"]);
    // The disk names its role: clients get neither the disk nor its setup.
    const client = vms.find((v) => v.metadata?.name === "virtwork-redis-bench-client-0");
    assert.deepEqual(
      client?.spec?.template.spec?.domain.devices.disks?.map((d) => d.name),
      ["containerdisk", "cloudinitdisk"],
    );
    assert.equal(client?.spec?.dataVolumeTemplates, undefined);
    const clientDoc = userData("virtwork-redis-bench-client-0");
    assert.deepEqual(clientDoc.packages, ["redis"]);
    assert.ok(!clientDoc.write_files.some((f) => f.path.includes("disk-setup")));
    assert.deepEqual(doc.runcmd, [
      ["/usr/local/bin/virtwork-disk-setup-redis-data.sh"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "server.service"],
    ]);
    const unit = unitText(doc, "server.service");
    assert.match(execStart(unit), /--dir \/var\/lib\/redis .*--maxmemory 256mb /);
    assertUnitsVerify({ packages: [], runcmd: [], files: doc.write_files as never });
  });

  it("params with commas pass through --params; every Exec script is clean", () => {
    const { userData } = planShipped("redis-bench", {
      params: ["redis-bench.test-mode=lpush,lpop,redis-bench.num-clients=25"],
    });
    const doc = userData("virtwork-redis-bench-client-0");
    const unit = unitText(doc, "client.service");
    assert.match(execStart(unit), /-c 25 .* -t lpush,lpop -q;/);
    assertExecScriptsClean(unit);
    assertUnitsVerify({ packages: [], runcmd: [], files: doc.write_files as never });
  });

  it("deploys with --from-catalog from the built CLI", () => {
    const r = virtwork([
      "run",
      "--dry-run",
      "--catalog-dir",
      "catalog",
      "--from-catalog",
      "redis-bench",
      "-o",
      "json",
    ]);
    assert.equal(r.status, 0, r.stderr);
    const kinds = (JSON.parse(r.stdout) as { items: { kind: string }[] }).items.map((o) => o.kind);
    assert.deepEqual(kinds, ["Namespace", "Service", "Secret", "Secret", "VirtualMachine", "VirtualMachine"]);
  });
});
