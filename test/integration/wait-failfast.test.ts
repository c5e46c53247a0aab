/**
 * Issue 20 acceptance, fail fast: each way a VM can be stuck that the simulator plays (an image
 * that cannot be pulled, a ResourceQuota refusing the virt-launcher pod, a cluster without a
 * default StorageClass, an unschedulable VM) fails the run within seconds — the unschedulable
 * one after its documented grace (--unschedulable-grace) — with one error line naming the VM,
 * the cause and the fix. A real ResourceQuota refusing virtwork's own create says it is a quota
 * (not RBAC). The timeout is 300 s everywhere, so "within seconds" cannot be the timeout.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { closeAll, newNamespace, startCluster, waitFor } from "./harness.ts";
import { FAST, virtwork } from "./ops-cli.ts";

after(closeAll);

const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("Error:"));

async function failingRun(
  prefix: string,
  sim: Parameters<Awaited<ReturnType<typeof newNamespace>>["simulate"]>[0],
  extra: string[] = [],
  workloads = "cpu,memory",
  setup?: (namespace: string) => Promise<void>,
) {
  const ns = await newNamespace({ prefix });
  await setup?.(ns.name);
  await ns.simulate(sim);
  const res = await virtwork(["run", "-n", ns.name, "--workloads", workloads, "--timeout", "300", ...extra], {
    kubeconfig: ns.kubeconfig(),
  });
  assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
  const errors = errorLines(res.stderr);
  assert.equal(errors.length, 1, res.stderr);
  return { res, error: errors[0] ?? "" };
}

describe("stuck VMs fail the run with the VM, the cause and the fix", () => {
  test("an image that cannot be pulled: at once", async () => {
    const { res, error } = await failingRun("imgpull", {
      delays: FAST,
      failures: { "virtwork-memory-0": "ImagePull" },
    });
    assert.ok(res.ms < 20_000, `failed after ${res.ms} ms`);
    assert.match(
      error,
      /VM virtwork-memory-0: the container disk image cannot be pulled \((ErrImagePull|ImagePullBackOff): .*failed to pull and unpack image "quay\.io\/containerdisks\/fedora:42".*\); check the image reference \(--container-disk-image\)/,
    );
  });

  test("a ResourceQuota refusing the virt-launcher pod: at once", async () => {
    // a real quota: room for one launcher pod (2434Mi each), so virt-controller's second pod
    // create is refused by the apiserver and virt-controller reports it on the VMI
    const { res, error } = await failingRun("quota", { delays: FAST }, [], "cpu,memory", async (ns) => {
      const core = (await startCluster()).kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
      await core.createNamespacedResourceQuota({
        namespace: ns,
        body: { metadata: { name: "virtwork-quota" }, spec: { hard: { "requests.memory": "3Gi" } } },
      });
      await waitFor(
        async () =>
          (await core.readNamespacedResourceQuota({ name: "virtwork-quota", namespace: ns })).status?.hard !==
          undefined,
        { timeoutMs: 60_000, what: "quota status" },
      );
    });
    assert.ok(res.ms < 20_000, `failed after ${res.ms} ms`);
    assert.match(
      error,
      /VM virtwork-(cpu|memory)-0: its virt-launcher pod was refused: .*exceeded quota: virtwork-quota.*; a ResourceQuota in the namespace refuses it: check `kubectl describe resourcequota/,
    );
  });

  test("no default StorageClass: at once, saying what to do", async () => {
    // the sandbox's one class loses its default mark for this test (files run one at a time)
    const storage = (await startCluster()).kubeConfig("admin").makeApiClient(k8s.StorageV1Api);
    const mark = (v: string | null) =>
      storage.patchStorageClass(
        {
          name: "standard",
          body: { metadata: { annotations: { "storageclass.kubernetes.io/is-default-class": v } } },
        },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
    await mark(null);
    try {
      const { res, error } = await failingRun("nodefsc", { delays: FAST }, [], "disk");
      assert.ok(res.ms < 20_000, `failed after ${res.ms} ms`);
      assert.match(
        error,
        /VM virtwork-disk-0: DataVolume \S+ names no StorageClass and the cluster has no default one; pass --storage-class \(the cluster has: standard\), or mark one default/,
      );
    } finally {
      await mark("true");
    }
  });

  test("unschedulable: only after the grace period, then naming the capacity fix", async () => {
    // more memory than a fake node has: kube-scheduler itself refuses the launcher pod
    const { res, error } = await failingRun("unschedg", { delays: FAST }, [
      "--unschedulable-grace",
      "4",
      "--set",
      "cpu.memory=2Ti",
    ]);
    assert.ok(res.ms >= 4_000, `failed after ${res.ms} ms, before the 4 s grace`);
    assert.ok(res.ms < 30_000, `failed after ${res.ms} ms`);
    assert.match(
      error,
      /VM virtwork-cpu-0: no node can run it \((ErrorUnschedulable|Unschedulable): 0\/\d+ nodes are available: \d+ Insufficient memory.*\), for more than 4s; free or add capacity/,
    );
  });
});

describe("a ResourceQuota refusing virtwork's own create", () => {
  test("says quota, names the namespace and the fix (not an RBAC hint)", async () => {
    const cluster = await startCluster();
    const ns = await newNamespace({ prefix: "rq" });
    await ns.simulate({ delays: FAST });
    const core = cluster.kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedResourceQuota({
      namespace: ns.name,
      body: {
        metadata: { name: "one-vm" },
        spec: { hard: { "count/virtualmachines.kubevirt.io": "1" } },
      },
    });
    // Admission enforces the quota once the quota controller has filled in its status.
    await waitFor(
      async () =>
        (await core.readNamespacedResourceQuota({ name: "one-vm", namespace: ns.name })).status?.hard !==
        undefined,
      { timeoutMs: 60_000, what: "quota status" },
    );
    const res = await virtwork(["run", "-n", ns.name, "--workloads", "cpu,memory", "--timeout", "300"], {
      kubeconfig: ns.kubeconfig(),
    });
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    const errors = errorLines(res.stderr);
    assert.equal(errors.length, 1, res.stderr);
    assert.match(
      errors[0] ?? "",
      new RegExp(
        `create virtualmachines\\.kubevirt\\.io "virtwork-(cpu|memory)-0" in namespace "${ns.name}": refused by a ResourceQuota \\(403\\): .*(exceeded quota|status unknown for quota): one-vm.*kubectl describe resourcequota -n ${ns.name}`,
      ),
    );
  });
});

describe("--wait-for ready (default) waits for the readiness probe, running does not", () => {
  test("ready waits for agent + probe; the summary records created → scheduled → running → ready", async () => {
    const ns = await newNamespace({ prefix: "ready" });
    await ns.simulate({ delays: { ...FAST, agent: 1500, ready: 1500 } });
    const res = await virtwork(
      ["run", "-n", ns.name, "--workloads", "cpu", "-o", "json", "--timeout", "120"],
      {
        kubeconfig: ns.kubeconfig(),
      },
    );
    assert.equal(res.code, 0, res.stderr);
    const summary = JSON.parse(res.stdout) as {
      outcome: string;
      vms: { createdAt: string; scheduledAt: string; runningAt: string; readyAt: string }[];
      timings: { createdToReadyP50Ms?: number };
    };
    assert.equal(summary.outcome, "ready");
    const [vm] = summary.vms;
    assert.ok(vm?.createdAt && vm.scheduledAt && vm.runningAt && vm.readyAt, JSON.stringify(vm));
    const t = (s: string) => Date.parse(s);
    assert.ok(t(vm.createdAt) <= t(vm.scheduledAt) && t(vm.scheduledAt) <= t(vm.runningAt));
    // The probe passes ~3 s after Running (agent 1.5 s + probe 1.5 s); allow for a loaded machine.
    assert.ok(
      t(vm.readyAt) - t(vm.runningAt) >= 2500,
      `running → ready ${t(vm.readyAt) - t(vm.runningAt)} ms`,
    );
    assert.ok((summary.timings.createdToReadyP50Ms ?? 0) >= 2500);
  });

  test("a VM whose probe never passes: ready times out naming the probe; running succeeds", async () => {
    const ns = await newNamespace({ prefix: "neverrdy" });
    await ns.simulate({ delays: FAST, failures: { "virtwork-cpu-0": "NeverReady" } });
    const res = await virtwork(["run", "-n", ns.name, "--workloads", "cpu", "--timeout", "5"], {
      kubeconfig: ns.kubeconfig(),
    });
    assert.equal(res.code, 1, res.stderr);
    assert.match(
      errorLines(res.stderr)[0] ?? "",
      /timed out after 5s: 1 of 1 VMs are not ready, slowest: virtwork-cpu-0 \(Running: Ready=False \(ContainersNotReady: containers with unready status: \[compute\]/,
    );
    // The VM's own planned probe (fedora: the probe script through the guest agent), as
    // virt-controller wrapped it into the launcher pod's readiness probe (virt-probe).
    const core = (await startCluster()).kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
    const [pod] = (
      await core.listNamespacedPod({ namespace: ns.name, labelSelector: "kubevirt.io=virt-launcher" })
    ).items;
    const probe =
      pod?.spec?.containers.find((c) => c.name === "compute")?.readinessProbe?.exec?.command ?? [];
    assert.equal(probe[0], "virt-probe");
    assert.ok(probe.includes("/usr/local/libexec/virtwork/readiness-probe"), probe.join(" "));
    const running = await virtwork(
      ["run", "-n", ns.name, "--workloads", "cpu", "--wait-for", "running", "-o", "json", "--timeout", "60"],
      { kubeconfig: ns.kubeconfig() },
    );
    assert.equal(running.code, 0, running.stderr);
    assert.equal((JSON.parse(running.stdout) as { outcome: string }).outcome, "ready");
  });
});
