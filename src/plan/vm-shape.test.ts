import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../config/load.ts";
import type { VirtualMachine } from "../manifests/objects.ts";
import { createRegistry } from "../workloads/registry.ts";
import { plan } from "./plan.ts";

const registry = createRegistry();
const RUN_ID = "00000000-0000-4000-8000-000000000016";

function vmsFor(flags: Record<string, unknown> = {}, env: Record<string, string> = {}): VirtualMachine[] {
  const { config } = loadConfig({ flags, env, registry });
  return plan(config, registry, { runId: RUN_ID }).objects.filter(
    (o): o is VirtualMachine => o.kind === "VirtualMachine",
  );
}
const specOf = (vm: VirtualMachine | undefined) => {
  assert.ok(vm?.spec?.template.spec);
  return vm.spec.template.spec;
};
/** VM name → what `select` picks from its template spec. */
const byVm = (vms: VirtualMachine[], select: (s: ReturnType<typeof specOf>) => unknown) =>
  Object.fromEntries(vms.map((vm) => [vm.metadata?.name, select(specOf(vm))]));

describe("VM shape for real clusters", () => {
  it("eviction: LiveMigrateIfPossible by default, so drains migrate what can and evict the rest", () => {
    const vms = vmsFor({ workloads: ["all"] });
    assert.equal(vms.length, 11);
    for (const vm of vms)
      assert.equal(specOf(vm).evictionStrategy, "LiveMigrateIfPossible", vm.metadata?.name);
    for (const strategy of ["None", "LiveMigrate", "External"]) {
      const [vm] = vmsFor({ workloads: ["disk"], "eviction-strategy": strategy });
      assert.equal(specOf(vm).evictionStrategy, strategy);
    }
    // "cluster": the field is left out and the cluster-wide setting applies.
    const [inherit] = vmsFor({ workloads: ["disk"], "eviction-strategy": "cluster" });
    assert.ok(!("evictionStrategy" in specOf(inherit)));
  });

  it("CPU request: by default what each workload keeps busy, bounded by its vCPUs", () => {
    const vms = vmsFor({ workloads: ["all"] });
    assert.deepEqual(
      byVm(vms, (s) => s.domain.resources?.requests?.cpu),
      {
        "virtwork-cpu-0": "2", // stress-ng on both vCPUs at 100%
        "virtwork-memory-0": "1", // one --vm stressor
        "virtwork-disk-0": "1", // 4 fio jobs × 250m
        "virtwork-database-0": "2",
        "virtwork-network-server-0": "1",
        "virtwork-network-client-0": "1",
        "virtwork-tps-server-0": "1",
        "virtwork-tps-client-0": "1",
        "virtwork-chaos-disk-0": "200m",
        "virtwork-chaos-network-0": "100m",
        "virtwork-chaos-process-0": "100m",
      },
    );
  });

  it("CPU request follows the params and the core count", () => {
    const cpu = (flags: Record<string, unknown>) =>
      specOf(vmsFor({ workloads: ["cpu"], ...flags })[0]).domain.resources?.requests?.cpu;
    assert.equal(cpu({ params: ["cpu.cpu-load-percent=50"] }), "1");
    assert.equal(cpu({ params: ["cpu.cpu-load-percent=30"], "cpu-cores": "4" }), "1200m");
    assert.equal(cpu({ params: ["cpu.cpu-load-percent=0"] }), "100m", "never below 100m");
    assert.equal(cpu({ "cpu-cores": "8" }), "8");
    const memory = specOf(vmsFor({ workloads: ["memory"], params: ["memory.vm-stressors=16"] })[0]);
    assert.equal(memory.domain.resources?.requests?.cpu, "2", "never above the VM's vCPUs");
  });

  it("CPU request: a quantity for every VM, none for KubeVirt's default, per workload with --set", () => {
    const all = vmsFor({ workloads: ["cpu", "disk"], "cpu-request": "750m" });
    assert.deepEqual(
      byVm(all, (s) => s.domain.resources?.requests?.cpu),
      {
        "virtwork-cpu-0": "750m",
        "virtwork-disk-0": "750m",
      },
    );
    const none = vmsFor({ workloads: ["cpu"], "cpu-request": "none" });
    assert.equal(specOf(none[0]).domain.resources, undefined);
    const mixed = vmsFor({ workloads: ["cpu", "disk"], set: ["cpu.cpu-request=1.5"] });
    assert.deepEqual(
      byVm(mixed, (s) => s.domain.resources?.requests?.cpu),
      {
        "virtwork-cpu-0": "1.5",
        "virtwork-disk-0": "1",
      },
    );
  });

  it("memory through domain.memory.guest, not resources.requests.memory", () => {
    for (const vm of vmsFor({ workloads: ["all"], memory: "3Gi" })) {
      const spec = specOf(vm);
      assert.deepEqual(spec.domain.memory, { guest: "3Gi" });
      assert.equal(spec.domain.resources?.requests?.memory, undefined);
    }
  });

  it("an rng device on every VM unless --no-rng", () => {
    for (const vm of vmsFor({ workloads: ["all"] })) assert.deepEqual(specOf(vm).domain.devices.rng, {});
    const [off] = vmsFor({ workloads: ["cpu"], rng: false });
    assert.ok(!("rng" in specOf(off).domain.devices));
    const [offEnv] = vmsFor({ workloads: ["cpu"] }, { VIRTWORK_RNG: "false" });
    assert.ok(!("rng" in specOf(offEnv).domain.devices));
  });

  it("database gets a longer termination grace period; the others keep KubeVirt's", () => {
    const vms = vmsFor({ workloads: ["all"] });
    const grace = byVm(vms, (s) => s.terminationGracePeriodSeconds);
    assert.equal(grace["virtwork-database-0"], 180);
    for (const [name, value] of Object.entries(grace)) {
      if (name !== "virtwork-database-0") assert.equal(value, undefined, name);
    }
    const set = vmsFor({ workloads: ["cpu", "database"], set: ["database.termination-grace-period=10m"] });
    assert.deepEqual(
      byVm(set, (s) => s.terminationGracePeriodSeconds),
      {
        "virtwork-cpu-0": undefined,
        "virtwork-database-0": 600,
      },
    );
    const global = vmsFor({ workloads: ["cpu", "database"], "termination-grace-period": "45" });
    assert.deepEqual(
      byVm(global, (s) => s.terminationGracePeriodSeconds),
      {
        "virtwork-cpu-0": 45,
        "virtwork-database-0": 45,
      },
    );
  });
});
