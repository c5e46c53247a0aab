/**
 * Issue 14, re-runs are truthful (built CLI, real API server): a re-run whose spec differs is
 * refused with the object and the difference named, and nothing is changed; an unlabelled
 * object under a planned name is never adopted; a same-spec re-run names the run that owns
 * the objects; a create whose answer is lost is still counted as created; latencies are never
 * negative.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { closeAll, newNamespace, startCluster } from "./harness.ts";
import { startLossyProxy } from "./lossy-proxy.ts";
import { ensureBuilt, FAST, managedObjects, names, objectsIn, parseJson, virtwork } from "./ops-cli.ts";

after(closeAll);

interface Summary {
  runId: string;
  outcome: string;
  created: Record<string, number>;
  existing: Record<string, number>;
  ownerRunIds: string[];
  vms: { name: string; createdAt?: string; runningAt?: string }[];
}

async function admin() {
  const kc = (await startCluster()).kubeConfig("admin");
  return { core: kc.makeApiClient(k8s.CoreV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi) };
}

async function vmSpec(namespace: string, name: string) {
  const { custom } = await admin();
  return (await custom.getNamespacedCustomObject({
    group: "kubevirt.io",
    version: "v1",
    namespace,
    plural: "virtualmachines",
    name,
  })) as {
    metadata: {
      uid: string;
      resourceVersion: string;
      generation: number;
      labels: Record<string, string>;
      managedFields?: { manager?: string; operation?: string; subresource?: string; time?: string }[];
    };
    spec: { template: { spec: { domain: { cpu: { cores: number } } } } };
  };
}

describe("a re-run in the same namespace", () => {
  let ns: Awaited<ReturnType<typeof newNamespace>>;
  let kubeconfig: string;
  let first: Summary;

  before(async () => {
    await ensureBuilt();
    ns = await newNamespace({ prefix: "rerun" });
    await ns.simulate({ delays: FAST });
    kubeconfig = ns.kubeconfig();
    const res = await virtwork(
      ["run", "-n", ns.name, "--workloads", "cpu", "--cpu-cores", "2", "-o", "json"],
      {
        kubeconfig,
      },
    );
    assert.equal(res.code, 0, res.stderr);
    first = parseJson<Summary>(res);
    assert.equal(first.outcome, "ready");
  });

  test("with a changed --cpu-cores: refused (exit 1), the VM and difference named, nothing changed", async () => {
    const before = await vmSpec(ns.name, "virtwork-cpu-0");
    const res = await virtwork(["run", "-n", ns.name, "--workloads", "cpu", "--cpu-cores", "4"], {
      kubeconfig,
    });
    assert.equal(res.code, 1, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(
        `Error: .*VirtualMachine/virtwork-cpu-0 \\(run ${first.runId}\\) differs from the plan: spec\\.template\\.spec\\.domain\\.cpu\\.cores: cluster has 2, plan has 4.*virtwork cleanup -n ${ns.name} --run-id ${first.runId}`,
      ),
    );
    const afterSpec = await vmSpec(ns.name, "virtwork-cpu-0");
    assert.equal(afterSpec.spec.template.spec.domain.cpu.cores, 2, "the VM keeps its spec");
    // Not written by anyone but KubeVirt's controllers: virt-controller may still update the
    // VM's status (its subresource) on a loaded machine, which moves resourceVersion; a write by
    // virtwork would change the spec, the labels, the generation or a non-status field entry.
    assert.deepEqual(afterSpec.spec, before.spec, "spec unchanged");
    assert.deepEqual(afterSpec.metadata.labels, before.metadata.labels, "labels unchanged");
    assert.equal(afterSpec.metadata.generation, before.metadata.generation, "not written at all");
    const mainFields = (v: typeof before) =>
      (v.metadata.managedFields ?? []).filter((f) => f.subresource !== "status");
    assert.deepEqual(mainFields(afterSpec), mainFields(before), "no write to the VM itself");
    assert.equal(afterSpec.metadata.labels["virtwork/run-id"], first.runId, "still the first run's");
    // Nothing of the refused run exists.
    const all = await managedObjects(ns.name);
    assert.deepEqual(names(all.vms), ["virtwork-cpu-0"]);
    assert.deepEqual(names(all.secrets), ["virtwork-cpu-0-cloudinit"]);
  });

  test("with the same spec: nothing created, and summary, hint and history name the owning run", async () => {
    const res = await virtwork(["run", "-n", ns.name, "--workloads", "cpu", "--cpu-cores", "2"], {
      kubeconfig,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Created nothing; already present: 1 Secret, 1 VirtualMachine \(of run (\S+)\)/);
    assert.match(res.stdout, new RegExp(`\\(of run ${first.runId}\\)`));
    assert.match(
      res.stdout,
      new RegExp(
        `Its objects belong to run ${first.runId}; remove them with:\\n  virtwork cleanup -n ${ns.name} --run-id ${first.runId}\\n`,
      ),
    );
    const newRun = /^Run (\S+) in namespace/m.exec(res.stdout)?.[1] ?? "";
    assert.notEqual(newRun, first.runId);
    assert.ok(!res.stdout.includes(`--run-id ${newRun}`), "no hint names the new run, which owns nothing");
    const history = await virtwork(["history", "show", newRun, "-o", "json"], { kubeconfig });
    assert.equal(history.code, 0, history.stderr);
    const run = parseJson<{
      events: { type: string; message?: string }[];
      vms: { runningAt?: string; createdAt?: string }[];
    }>(history);
    const skipped = run.events.filter((e) => e.type === "object_skipped");
    assert.equal(skipped.length, 2, JSON.stringify(run.events));
    for (const e of skipped) assert.match(e.message ?? "", new RegExp(`run ${first.runId}`));
    for (const vm of run.vms) {
      if (vm.createdAt && vm.runningAt)
        assert.ok(
          Date.parse(vm.runningAt) >= Date.parse(vm.createdAt),
          `latency ${vm.createdAt} → ${vm.runningAt}`,
        );
    }
  });

  test("an unlabelled Secret under a planned name stops the run (exit 1) naming it; it is never adopted", async () => {
    const { core } = await admin();
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: "virtwork-memory-0-cloudinit" }, stringData: { userdata: "mine" } },
    });
    const mine = await core.readNamespacedSecret({ name: "virtwork-memory-0-cloudinit", namespace: ns.name });
    const res = await virtwork(["run", "-n", ns.name, "--workloads", "memory"], { kubeconfig });
    assert.equal(res.code, 1, res.stderr);
    assert.match(
      res.stderr,
      /Error: .*Secret\/virtwork-memory-0-cloudinit exists and is not virtwork's \(it lacks the label app\.kubernetes\.io\/managed-by=virtwork\); virtwork never adopts or modifies it/,
    );
    const again = await core.readNamespacedSecret({
      name: "virtwork-memory-0-cloudinit",
      namespace: ns.name,
    });
    assert.equal(again.metadata?.resourceVersion, mine.metadata?.resourceVersion, "untouched");
    assert.equal(again.metadata?.labels, undefined);
    const left = await objectsIn(ns.name);
    assert.ok(!left.vms.has("virtwork-memory-0"), "no VM was created to use it");
  });
});

test("a lost create answer: the VM is counted as created by this run, not as already present", async () => {
  await ensureBuilt();
  const ns = await newNamespace({ prefix: "lost" });
  await ns.simulate({ delays: FAST });
  const proxy = await startLossyProxy({
    drop: (method, path) =>
      method === "POST" && path === `/apis/kubevirt.io/v1/namespaces/${ns.name}/virtualmachines`,
    times: 1,
  });
  try {
    const res = await virtwork(["run", "-n", ns.name, "--workloads", "cpu", "-o", "json", "-v"], {
      kubeconfig: proxy.kubeconfig(ns.name),
    });
    assert.equal(res.code, 0, res.stderr.slice(-3000));
    assert.deepEqual(proxy.dropped, [
      { method: "POST", path: `/apis/kubevirt.io/v1/namespaces/${ns.name}/virtualmachines`, status: 201 },
    ]);
    const summary = parseJson<Summary>(res);
    assert.equal(summary.outcome, "ready");
    assert.deepEqual(summary.created, { Secret: 1, VirtualMachine: 1 });
    assert.deepEqual(summary.existing, {});
    assert.deepEqual(summary.ownerRunIds, [summary.runId]);
    assert.match(
      res.stderr,
      /a create's response was lost; the object carries this run's id.*"name":"virtwork-cpu-0"/,
    );
    const vm = summary.vms[0];
    assert.ok(vm?.createdAt && vm.runningAt && Date.parse(vm.runningAt) >= Date.parse(vm.createdAt));
    const vms = await managedObjects(ns.name, summary.runId);
    assert.deepEqual(names(vms.vms), ["virtwork-cpu-0"]);
  } finally {
    await proxy.stop();
  }
});
