/**
 * KubeVirt's own admission, live: every VM virtwork plans — the default run, `--workloads all`,
 * every guest OS, the golden image, each `--cpu-request` form and every shipped catalog entry —
 * goes through virt-api's real mutating and validating webhooks with a server-side dry run and
 * is admitted. A planned VM with one field broken is refused with KubeVirt's own message, and a
 * planned VM sent as is comes back defaulted by virt-api's mutator: the webhooks are called, not
 * bypassed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { closeAll, newNamespace, REPO_ROOT, startCluster, type TestNamespace } from "./harness.ts";
import { virtwork } from "./ops-cli.ts";

after(closeAll);

interface Planned {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}

const CATALOG = join(REPO_ROOT, "catalog");
const CATALOG_ENTRIES = ["http-bench", "redis-bench", "sysbench"];

/** the inputs whose plans must all be admitted (flags after `run`) */
const INPUTS: [string, string[]][] = [
  ["default", []],
  ["--workloads all", ["--workloads", "all"]],
  ...(["fedora", "centos-stream", "ubuntu", "debian"] as const).map((os): [string, string[]] => [
    `--guest-os ${os}`,
    ["--guest-os", os, "--workloads", "all"],
  ]),
  [
    "--golden-image",
    ["--golden-image", "--workloads", "all", "--container-disk-image", "registry.invalid/virtwork/golden:1"],
  ],
  ["--cpu-request none", ["--cpu-request", "none"]],
  ["--cpu-request 500m", ["--cpu-request", "500m"]],
  ["--vm-count 2 --cpu-cores 4 --memory 8Gi", ["--vm-count", "2", "--cpu-cores", "4", "--memory", "8Gi"]],
  ...CATALOG_ENTRIES.map((e): [string, string[]] => [
    `--from-catalog ${e}`,
    ["--catalog-dir", CATALOG, "--from-catalog", e],
  ]),
];

async function plannedVMs(ns: string, args: string[]): Promise<Planned[]> {
  const res = await virtwork(["run", "--dry-run", "-o", "json", "-n", ns, ...args]);
  assert.equal(res.code, 0, res.stderr);
  const doc = JSON.parse(res.stdout) as Planned[] | { items: Planned[] };
  const items = Array.isArray(doc) ? doc : doc.items;
  return items.filter((o) => o.kind === "VirtualMachine");
}

describe("KubeVirt's virt-api admits what virtwork plans", () => {
  let ns: TestNamespace;
  let custom: k8s.CustomObjectsApi;
  before(async () => {
    ns = await newNamespace({ prefix: "admit" });
    custom = (await startCluster()).kubeConfig("admin").makeApiClient(k8s.CustomObjectsApi);
  });

  test("every planned VM of every input passes the real webhooks (server-side dry run)", async () => {
    let admitted = 0;
    for (const [what, args] of INPUTS) {
      const res = await virtwork(["run", "--dry-run=server", "-n", ns.name, "-o", "json", ...args], {
        kubeconfig: ns.kubeconfig(),
      });
      assert.equal(res.code, 0, `${what}: ${res.stderr}`);
      const summary = JSON.parse(res.stdout) as { outcome: string; created: Record<string, number> };
      assert.equal(summary.outcome, "checked", what);
      const expected = (await plannedVMs(ns.name, args)).length;
      assert.ok(expected > 0, `${what} plans VMs`);
      assert.equal(summary.created.VirtualMachine, expected, `${what}: every planned VM admitted`);
      admitted += expected;
    }
    // nothing was created by the dry runs
    const left = (await custom.listNamespacedCustomObject({
      group: "kubevirt.io",
      version: "v1",
      plural: "virtualmachines",
      namespace: ns.name,
    })) as { items: unknown[] };
    assert.equal(left.items.length, 0);
    process.stdout.write(`# admitted by virt-api: ${admitted} VMs from ${INPUTS.length} inputs\n`);
  });

  test("virt-api's mutator defaults a planned VM (the webhook ran)", async () => {
    const [vm] = await plannedVMs(ns.name, ["--workloads", "cpu"]);
    assert.ok(vm);
    const out = (await custom.createNamespacedCustomObject({
      group: "kubevirt.io",
      version: "v1",
      plural: "virtualmachines",
      namespace: ns.name,
      body: vm,
      dryRun: "All",
    })) as {
      spec: { template: { spec: { architecture?: string; domain: { machine?: { type?: string } } } } };
    };
    // neither field is in virtwork's plan: virt-api's VM mutator sets them from the KubeVirt config
    const planned = vm.spec as { template: { spec: { architecture?: string } } };
    assert.equal(planned.template.spec.architecture, undefined);
    assert.equal(out.spec.template.spec.architecture, "amd64");
    assert.equal(out.spec.template.spec.domain.machine?.type, "q35");
  });

  test("a planned VM with a broken disk bus is refused with KubeVirt's message", async () => {
    const [vm] = await plannedVMs(ns.name, ["--workloads", "cpu"]);
    assert.ok(vm);
    const spec = vm.spec as {
      template: { spec: { domain: { devices: { disks: { name: string; disk?: { bus?: string } }[] } } } };
    };
    const disk = spec.template.spec.domain.devices.disks.find((d) => d.disk);
    assert.ok(disk?.disk, "the plan has a disk");
    disk.disk.bus = "floppy";
    await assert.rejects(
      custom.createNamespacedCustomObject({
        group: "kubevirt.io",
        version: "v1",
        plural: "virtualmachines",
        namespace: ns.name,
        body: vm,
        dryRun: "All",
      }),
      (err: unknown) => {
        assert.ok(err instanceof k8s.ApiException);
        assert.equal(err.code, 422);
        const body = JSON.parse(String(err.body)) as { message: string };
        assert.match(
          body.message,
          /admission webhook "virtualmachine-validator\.kubevirt\.io" denied the request/,
        );
        assert.match(body.message, /floppy/);
        return true;
      },
    );
  });
});
