import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { passwordMatches, SHA512_CRYPT } from "../cloudinit/password.ts";
import { loadConfig } from "../config/load.ts";
import type { KubeObject, Secret, Service, VirtualMachine } from "../manifests/objects.ts";
import { createRegistry } from "../workloads/registry.ts";
import { plan } from "./plan.ts";

const registry = createRegistry();
const RUN_ID = "00000000-0000-4000-8000-000000000001";

function planFor(flags: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const { config } = loadConfig({ flags, env, registry });
  return plan(config, registry, { runId: RUN_ID });
}
const kinds = (objects: KubeObject[]) =>
  objects.reduce<Record<string, number>>((acc, o) => {
    acc[o.kind] = (acc[o.kind] ?? 0) + 1;
    return acc;
  }, {});
const ofKind = <K extends KubeObject["kind"]>(objects: KubeObject[], kind: K) =>
  objects.filter((o): o is Extract<KubeObject, { kind: K }> => o.kind === kind);

describe("plan", () => {
  it("default run: 1 Namespace, 2 Services, 8 Secrets, 8 VMs", () => {
    const p = planFor();
    assert.deepEqual(kinds(p.objects), { Namespace: 1, Service: 2, Secret: 8, VirtualMachine: 8 });
    assert.deepEqual(
      p.vms.map((v) => v.name),
      [
        "virtwork-cpu-0",
        "virtwork-memory-0",
        "virtwork-disk-0",
        "virtwork-database-0",
        "virtwork-network-server-0",
        "virtwork-network-client-0",
        "virtwork-tps-server-0",
        "virtwork-tps-client-0",
      ],
    );
  });

  it("creation order: Namespace, Services, Secrets, VMs", () => {
    const order = planFor().objects.map((o) => o.kind);
    const firstIndex = (k: string) => order.indexOf(k as KubeObject["kind"]);
    const lastIndex = (k: string) => order.lastIndexOf(k as KubeObject["kind"]);
    assert.equal(order[0], "Namespace");
    assert.ok(lastIndex("Service") < firstIndex("Secret"));
    assert.ok(lastIndex("Secret") < firstIndex("VirtualMachine"));
  });

  it("--workloads all: 11 VMs; --vm-count 3 --workloads network: 6 VMs and 1 Service", () => {
    assert.equal(ofKind(planFor({ workloads: ["all"] }).objects, "VirtualMachine").length, 11);
    const p = planFor({ workloads: ["network"], "vm-count": "3" });
    assert.deepEqual(kinds(p.objects), { Namespace: 1, Service: 1, Secret: 6, VirtualMachine: 6 });
    assert.deepEqual(p.workloads, [{ name: "network", vms: 6, roles: { server: 3, client: 3 } }]);
  });

  it("labels every object with the run id; VMs of roles carry the role", () => {
    const p = planFor({ workloads: ["network"] });
    for (const o of p.objects) {
      assert.equal(o.metadata?.labels?.["virtwork/run-id"], RUN_ID, `${o.kind} ${o.metadata?.name}`);
      assert.equal(o.metadata?.labels?.["app.kubernetes.io/managed-by"], "virtwork");
      assert.equal(o.metadata?.labels?.["app.kubernetes.io/name"], "virtwork");
    }
    const server = ofKind(p.objects, "VirtualMachine")[0] as VirtualMachine;
    assert.equal(server.metadata?.labels?.["virtwork/role"], "server");
    assert.equal(server.metadata?.labels?.["app.kubernetes.io/component"], "network");
    assert.deepEqual(
      server.spec?.template.metadata?.labels,
      server.metadata?.labels,
      "labels reach the launcher pod",
    );
  });

  it("Service selectors are scoped to their workload (no iperf3/tps mix-up)", () => {
    const services = ofKind(planFor().objects, "Service") as Service[];
    const byName = Object.fromEntries(services.map((s) => [s.metadata?.name, s]));
    assert.deepEqual(byName["virtwork-iperf3-server"]?.spec?.selector, {
      "app.kubernetes.io/component": "network",
      "virtwork/role": "server",
    });
    assert.deepEqual(byName["virtwork-tps-server"]?.spec?.selector, {
      "app.kubernetes.io/component": "tps",
      "virtwork/role": "server",
    });
    assert.deepEqual(
      byName["virtwork-tps-server"]?.spec?.ports?.map((port: { name?: string; port: number }) => [
        port.name,
        port.port,
      ]),
      [
        ["netperf-ctrl", 12865],
        ["netperf-data", 12866],
        ["http-data", 8080],
      ],
    );
  });

  it("VirtualMachine shape: runStrategy Always, secretRef user-data, masquerade, serial data disks", () => {
    const p = planFor({
      workloads: ["disk"],
      "vm-count": "2",
      "storage-class": "fast",
      "cpu-cores": "4",
      memory: "3Gi",
    });
    const [vm0, vm1] = ofKind(p.objects, "VirtualMachine") as VirtualMachine[];
    assert.ok(vm0 && vm1);
    assert.equal(vm0.apiVersion, "kubevirt.io/v1");
    assert.equal(vm0.spec?.runStrategy, "Always");
    assert.equal(vm0.spec?.running, undefined);
    const spec = vm0.spec?.template.spec;
    assert.equal(spec?.domain.cpu?.cores, 4);
    assert.deepEqual(spec?.domain.memory, { guest: "3Gi" });
    assert.deepEqual(spec?.domain.devices.interfaces, [{ name: "default", masquerade: {} }]);
    assert.deepEqual(spec?.networks, [{ name: "default", pod: {} }]);
    assert.deepEqual(spec?.volumes?.find((v) => v.name === "cloudinitdisk")?.cloudInitNoCloud, {
      secretRef: { name: "virtwork-disk-0-cloudinit" },
    });
    assert.deepEqual(
      spec?.domain.devices.disks?.find((d) => d.name === "datadisk"),
      {
        name: "datadisk",
        serial: "virtwork-disk",
        disk: { bus: "virtio" },
      },
    );
    const dv0 = vm0.spec?.dataVolumeTemplates?.[0];
    assert.equal(dv0?.metadata?.name, "virtwork-disk-data-virtwork-disk-0");
    assert.equal(vm1.spec?.dataVolumeTemplates?.[0]?.metadata?.name, "virtwork-disk-data-virtwork-disk-1");
    assert.deepEqual(dv0?.spec.source, { blank: {} });
    assert.equal(dv0?.spec.storage?.resources?.requests?.storage, "10Gi");
    assert.equal(dv0?.spec.storage?.storageClassName, "fast");
    assert.equal(
      dv0?.metadata?.labels?.["virtwork/run-id"],
      RUN_ID,
      "DVs are labelled so cleanup finds them",
    );
    assert.equal(spec?.volumes?.find((v) => v.name === "datadisk")?.dataVolume?.name, dv0?.metadata?.name);
  });

  it("one cloud-init Secret per VM, holding parseable #cloud-config", () => {
    const p = planFor({ workloads: ["cpu"], "vm-count": "2" });
    const secrets = ofKind(p.objects, "Secret") as Secret[];
    assert.deepEqual(
      secrets.map((s) => s.metadata?.name),
      ["virtwork-cpu-0-cloudinit", "virtwork-cpu-1-cloudinit"],
    );
    const userdata = secrets[0]?.stringData?.userdata ?? "";
    assert.ok(userdata.startsWith("#cloud-config\n"));
    const doc = parse(userdata, { version: "1.1" });
    assert.deepEqual(
      doc.packages,
      ["qemu-guest-agent", "stress-ng"],
      "the agent the readiness probe runs through, then the workload's",
    );
    assert.equal(doc.users, undefined, "no guest user without credentials");
  });

  it("per-workload overrides apply to that workload only", () => {
    const p = planFor({ workloads: ["cpu", "memory"], set: ["cpu.vm-count=2", "cpu.memory=4Gi"] });
    const vms = ofKind(p.objects, "VirtualMachine") as VirtualMachine[];
    assert.deepEqual(
      vms.map((v) => [v.metadata?.name, v.spec?.template.spec?.domain.memory?.guest]),
      [
        ["virtwork-cpu-0", "4Gi"],
        ["virtwork-cpu-1", "4Gi"],
        ["virtwork-memory-0", "2Gi"],
      ],
    );
  });

  it("passwords reach the user-data only as a salted SHA-512 crypt hash", () => {
    const env = { VIRTWORK_SSH_PASSWORD: "hunter2" };
    const secrets = ofKind(planFor({ workloads: ["cpu", "network"] }, env).objects, "Secret") as Secret[];
    const docs = secrets.map((s) => s.stringData?.userdata ?? "");
    for (const userdata of docs) {
      assert.ok(!userdata.includes("hunter2"), "no plain text");
      const doc = parse(userdata, { version: "1.1" });
      assert.equal(doc.users[1].plain_text_passwd, undefined);
      assert.match(doc.users[1].hashed_passwd, SHA512_CRYPT);
      assert.ok(passwordMatches("hunter2", doc.users[1].hashed_passwd));
      assert.equal(doc.users[1].lock_passwd, false);
      assert.equal(doc.ssh_pwauth, true);
    }
    const hashes = docs.map((d) => parse(d, { version: "1.1" }).users[1].hashed_passwd);
    assert.equal(new Set(hashes).size, 1, "one hash per run, in every Secret");
  });

  it("is pure: the same input gives the same plan", () => {
    assert.deepEqual(planFor({ workloads: ["all"] }), planFor({ workloads: ["all"] }));
  });

  it("1000 VMs plan without error", () => {
    const p = planFor({ workloads: ["cpu"], "vm-count": "1000" });
    assert.equal(p.vms.length, 1000);
    assert.equal(new Set(p.vms.map((v) => v.name)).size, 1000);
  });
});
