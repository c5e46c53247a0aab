import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { cloudInitSecret, virtualMachine } from "./fixtures.ts";
import {
  type ClusterInfo,
  closeAll,
  newNamespace,
  startCluster,
  type TestNamespace,
  waitFor,
} from "./harness.ts";

after(closeAll);

type Obj = {
  metadata: {
    name: string;
    uid: string;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
    labels?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    nodeName?: string;
    reason?: string;
    printableStatus?: string;
    ready?: boolean;
    created?: boolean;
    progress?: string;
    interfaces?: { name: string; ipAddress?: string; ipAddresses?: string[] }[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    phaseTransitionTimestamps?: { phase: string }[];
  };
};

const KV = { group: "kubevirt.io", version: "v1" };
const CDI = { group: "cdi.kubevirt.io", version: "v1beta1" };
const FAST = { scheduled: 150, running: 150, dataVolume: 300 };

describe("VMI simulator on the real KubeVirt/CDI CRDs", () => {
  let cluster: ClusterInfo;
  let ns: TestNamespace;
  let co: k8s.CustomObjectsApi;
  let core: k8s.CoreV1Api;

  const getOpt = async (g: typeof KV, plural: string, name: string): Promise<Obj | undefined> => {
    try {
      return (await co.getNamespacedCustomObject({ ...g, namespace: ns.name, plural, name })) as Obj;
    } catch (err) {
      if (err instanceof k8s.ApiException && err.code === 404) return undefined;
      throw err;
    }
  };
  const createVM = async (vm: ReturnType<typeof virtualMachine>) => {
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: cloudInitSecret(`${vm.metadata.name}-cloudinit`, ns.name) as k8s.V1Secret,
    });
    return (await co.createNamespacedCustomObject({
      ...KV,
      namespace: ns.name,
      plural: "virtualmachines",
      body: vm,
      fieldValidation: "Strict",
    })) as Obj;
  };

  before(async () => {
    cluster = await startCluster();
    co = cluster.kubeConfig("admin").makeApiClient(k8s.CustomObjectsApi);
    core = cluster.kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
    ns = await newNamespace({ prefix: "vm" });
    await ns.simulate({ delays: FAST });
  });

  test("a virtwork-shaped VM is accepted and its VMI goes Pending → Scheduling → Scheduled → Running", async () => {
    const phases: string[] = [];
    const watch = await new k8s.Watch(cluster.kubeConfig("admin")).watch(
      `/apis/kubevirt.io/v1/namespaces/${ns.name}/virtualmachineinstances`,
      {},
      (_type, obj: Obj) => {
        const p = obj.status?.phase;
        if (p && phases.at(-1) !== p) phases.push(p);
      },
      () => {},
    );
    try {
      const vm = await createVM(
        virtualMachine({ name: "virtwork-disk-0", namespace: ns.name, dataDisks: 2 }),
      );
      const vmi = await waitFor(
        async () => {
          const o = await getOpt(KV, "virtualmachineinstances", "virtwork-disk-0");
          return o?.status?.phase === "Running" ? o : undefined;
        },
        { what: "VMI Running", timeoutMs: 30_000 },
      );
      const owner = vmi.metadata.ownerReferences?.[0];
      assert.equal(owner?.kind, "VirtualMachine");
      assert.equal(owner?.uid, vm.metadata.uid);
      assert.equal(owner?.controller, true);
      // kube-scheduler picked one of the fake nodes; virt-controller labels the VMI with it
      assert.match(vmi.status?.nodeName ?? "", /^sim-node-\d+$/);
      assert.equal(vmi.metadata.labels?.["kubevirt.io/nodeName"], vmi.status?.nodeName);
      assert.equal(vmi.metadata.labels?.["virtwork/run-id"], "00000000-0000-4000-8000-000000000001");
      assert.match(vmi.status?.interfaces?.[0]?.ipAddress ?? "", /^10\.128\.0\.\d+$/);
      assert.equal(vmi.status?.interfaces?.[0]?.name, "default");
      // virt-controller copies the launcher pod's Ready (the probe) into the VMI a moment later
      await waitFor(async () => {
        const o = await getOpt(KV, "virtualmachineinstances", "virtwork-disk-0");
        return o?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      });
      assert.deepEqual(
        vmi.status?.phaseTransitionTimestamps?.map((t) => t.phase),
        ["Pending", "Scheduling", "Scheduled", "Running"],
      );
      // The VMI's spec is the VM's template spec, accepted by the real VMI schema.
      assert.deepEqual(
        ((vmi.spec?.volumes ?? []) as { name: string }[]).map((v) => v.name),
        ["containerdisk", "cloudinitdisk", "data0", "data1"],
      );
      await waitFor(() => phases.at(-1) === "Running", { what: "watch to see Running" });
      assert.deepEqual(phases, ["Pending", "Scheduling", "Scheduled", "Running"]);

      for (const dvName of ["data0-virtwork-disk-0", "data1-virtwork-disk-0"]) {
        const dv = await getOpt(CDI, "datavolumes", dvName);
        assert.equal(dv?.status?.phase, "Succeeded", dvName);
        assert.equal(dv?.status?.progress, "100.0%");
        assert.equal(dv?.metadata.ownerReferences?.[0]?.uid, vm.metadata.uid);
      }
      const vmNow = await waitFor(async () => {
        const o = await getOpt(KV, "virtualmachines", "virtwork-disk-0");
        return o?.status?.printableStatus === "Running" ? o : undefined;
      });
      assert.equal(vmNow.status?.ready, true);
      assert.equal(vmNow.status?.created, true);
    } finally {
      watch.abort();
    }
  });

  test("a DataVolume on storage class `missing` is not bound, with CDI's reason, and no VMI is created", async () => {
    await createVM(virtualMachine({ name: "virtwork-nosc-0", namespace: ns.name, storageClass: "missing" }));
    const dv = await waitFor(async () => {
      const o = await getOpt(CDI, "datavolumes", "data0-virtwork-nosc-0");
      return o?.status?.conditions?.length ? o : undefined;
    });
    assert.notEqual(dv.status?.phase, "Succeeded");
    const bound = dv.status?.conditions?.find((c) => c.type === "Bound");
    assert.equal(bound?.status, "False");
    // CDI v1.65 cannot even build the claim: no class to take a StorageProfile from
    assert.match(
      bound?.message ?? "",
      /no storageClass to choose profile|storageclass\.storage\.k8s\.io "missing" not found/,
    );
    const vm = await waitFor(async () => {
      const o = await getOpt(KV, "virtualmachines", "virtwork-nosc-0");
      return o?.status?.printableStatus ? o : undefined;
    });
    assert.equal(vm.status?.printableStatus, "Provisioning");
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(await getOpt(KV, "virtualmachineinstances", "virtwork-nosc-0"), undefined);
  });

  test("failure injected by annotation: the VMI goes Failed with a reason", async () => {
    await createVM(
      virtualMachine({
        name: "virtwork-crash-0",
        namespace: ns.name,
        annotations: {
          "simulator.virtwork.io/fail": "Failed",
          "simulator.virtwork.io/fail-reason": "guest panicked",
        },
      }),
    );
    const vmi = await waitFor(
      async () => {
        const o = await getOpt(KV, "virtualmachineinstances", "virtwork-crash-0");
        return o?.status?.phase === "Failed" ? o : undefined;
      },
      { what: "VMI Failed" },
    );
    assert.equal(vmi.status?.reason, "guest panicked");
    // virt-controller then restarts it with backoff: the VM says CrashLoopBackOff
    const vm = await waitFor(async () => {
      const o = await getOpt(KV, "virtualmachines", "virtwork-crash-0");
      return o?.status?.printableStatus === "CrashLoopBackOff" ? o : undefined;
    });
    assert.notEqual(vm.status?.ready, true);
  });

  test("a VM no node fits stays in Scheduling with kube-scheduler's PodScheduled=False", async () => {
    await createVM(
      virtualMachine({ name: "virtwork-unsched-0", namespace: ns.name, dataDisks: 0, memory: "2Ti" }),
    );
    const vmi = await waitFor(async () => {
      const o = await getOpt(KV, "virtualmachineinstances", "virtwork-unsched-0");
      return o?.status?.conditions?.some((c) => c.type === "PodScheduled") ? o : undefined;
    });
    assert.equal(vmi.status?.phase, "Scheduling");
    const scheduled = vmi.status?.conditions?.find((c) => c.type === "PodScheduled");
    assert.equal(scheduled?.reason, "Unschedulable");
    assert.match(scheduled?.message ?? "", /^0\/\d+ nodes are available: \d+ Insufficient memory/);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(
      (await getOpt(KV, "virtualmachineinstances", "virtwork-unsched-0"))?.status?.phase,
      "Scheduling",
    );
    const vm = await waitFor(async () => {
      const o = await getOpt(KV, "virtualmachines", "virtwork-unsched-0");
      return o?.status?.printableStatus === "ErrorUnschedulable" ? o : undefined;
    });
    assert.ok(vm);
  });

  test("runStrategy Halted stops the VM: its VMI is deleted", async () => {
    await createVM(virtualMachine({ name: "virtwork-halt-0", namespace: ns.name, dataDisks: 0 }));
    await waitFor(
      async () =>
        (await getOpt(KV, "virtualmachineinstances", "virtwork-halt-0"))?.status?.phase === "Running",
    );
    await co.patchNamespacedCustomObject(
      {
        ...KV,
        namespace: ns.name,
        plural: "virtualmachines",
        name: "virtwork-halt-0",
        body: { spec: { runStrategy: "Halted" } },
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await waitFor(
      async () => (await getOpt(KV, "virtualmachineinstances", "virtwork-halt-0")) === undefined,
      {
        what: "VMI deleted",
      },
    );
    await waitFor(
      async () =>
        (await getOpt(KV, "virtualmachines", "virtwork-halt-0"))?.status?.printableStatus === "Stopped",
    );
  });

  test("deleting a VM removes its VMI and DataVolumes", async () => {
    await createVM(virtualMachine({ name: "virtwork-del-0", namespace: ns.name }));
    await waitFor(
      async () =>
        (await getOpt(KV, "virtualmachineinstances", "virtwork-del-0"))?.status?.phase === "Running",
    );
    await co.deleteNamespacedCustomObject({
      ...KV,
      namespace: ns.name,
      plural: "virtualmachines",
      name: "virtwork-del-0",
    });
    await waitFor(
      async () =>
        (await getOpt(KV, "virtualmachineinstances", "virtwork-del-0")) === undefined &&
        (await getOpt(CDI, "datavolumes", "data0-virtwork-del-0")) === undefined,
      { what: "VMI and DataVolume gone" },
    );
  });

  test("the simulator resumes its watches after they end and still reacts to new VMs", async () => {
    const other = await newNamespace({ prefix: "resume" });
    const sim = await other.simulate({ delays: FAST, watchTimeoutSeconds: 1 });
    await waitFor(() => sim.watchRestarts >= 4, { what: "two rounds of watch restarts", timeoutMs: 15_000 });
    await cluster
      .kubeConfig("admin")
      .makeApiClient(k8s.CoreV1Api)
      .createNamespacedSecret({
        namespace: other.name,
        body: cloudInitSecret("late-0-cloudinit", other.name),
      });
    await co.createNamespacedCustomObject({
      ...KV,
      namespace: other.name,
      plural: "virtualmachines",
      body: virtualMachine({ name: "late-0", namespace: other.name, dataDisks: 0 }),
    });
    await waitFor(async () => {
      const o = (await co
        .getNamespacedCustomObject({
          ...KV,
          namespace: other.name,
          plural: "virtualmachineinstances",
          name: "late-0",
        })
        .catch(() => undefined)) as Obj | undefined;
      return o?.status?.phase === "Running";
    });
    assert.equal(sim.errors, 0);
    await other.delete();
  });

  test("a namespace holding VMs, VMIs and DataVolumes finishes terminating", async () => {
    const other = await newNamespace({ prefix: "term" });
    await other.simulate({ delays: FAST });
    await cluster
      .kubeConfig("admin")
      .makeApiClient(k8s.CoreV1Api)
      .createNamespacedSecret({
        namespace: other.name,
        body: cloudInitSecret("virtwork-t-0-cloudinit", other.name),
      });
    await co.createNamespacedCustomObject({
      ...KV,
      namespace: other.name,
      plural: "virtualmachines",
      body: virtualMachine({ name: "virtwork-t-0", namespace: other.name }),
    });
    await waitFor(async () => {
      const o = (await co.getNamespacedCustomObject({
        ...KV,
        namespace: other.name,
        plural: "virtualmachineinstances",
        name: "virtwork-t-0",
      })) as Obj;
      return o.status?.phase === "Running";
    });
    const t0 = Date.now();
    await other.delete(); // waits until the namespace is gone (404)
    assert.ok(Date.now() - t0 < 60_000);
  });
});
