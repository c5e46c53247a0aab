/**
 * More VMs than the fake nodes' allocatable CPU holds: kube-scheduler (the real one) places what
 * fits and leaves the rest Pending with its own Unschedulable message; virt-controller copies it
 * to the VMI and the VM (ErrorUnschedulable); virtwork's fail-fast names it once the
 * unschedulable grace has passed.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { closeAll, newNamespace, startCluster } from "./harness.ts";
import { FAST, virtwork } from "./ops-cli.ts";

after(closeAll);

test("a run larger than the nodes' CPU ends with kube-scheduler's Insufficient cpu after the grace", async () => {
  const cluster = await startCluster();
  const core = cluster.kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
  const nodes = (await core.listNode({ labelSelector: "kubevirt.io/schedulable=true" })).items;
  const cpus = nodes.reduce((n, node) => n + Number.parseInt(node.status?.allocatable?.cpu ?? "0", 10), 0);
  assert.ok(cpus > 0, "the fake nodes advertise CPU");
  const perVm = 32; // --cpu-request 32: every launcher pod requests 32 CPUs
  const count = Math.floor(cpus / perVm) + 1; // one more than fits
  const ns = await newNamespace({ prefix: "capacity" });
  await ns.simulate({ delays: FAST });
  const res = await virtwork(
    [
      "run",
      "-n",
      ns.name,
      "--workloads",
      "cpu",
      "--vm-count",
      String(count),
      "--cpu-request",
      String(perVm),
      "--memory",
      "1Gi",
      "--unschedulable-grace",
      "5",
      "--timeout",
      "300",
    ],
    { kubeconfig: ns.kubeconfig(), timeoutMs: 240_000 },
  );
  assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
  assert.ok(res.ms >= 5_000, `failed after ${res.ms} ms, before the 5 s grace`);
  const errors = res.stderr.split("\n").filter((l) => l.startsWith("Error:"));
  assert.ok(errors.length >= 1, res.stderr);
  assert.match(
    errors[0] ?? "",
    new RegExp(
      `VM virtwork-cpu-\\d+: no node can run it \\((ErrorUnschedulable|Unschedulable): 0/${nodes.length} nodes are available: ${nodes.length} Insufficient cpu.*\\), for more than 5s; free or add capacity`,
    ),
  );
  // what did not fit is Pending (a launcher pod asks a little more than the VM's request, so
  // one or more); the rest were placed on the fake nodes
  const pods = (
    await core.listNamespacedPod({ namespace: ns.name, labelSelector: "kubevirt.io=virt-launcher" })
  ).items;
  assert.equal(pods.length, count);
  const unbound = pods.filter((p) => !p.spec?.nodeName).length;
  assert.ok(unbound >= 1 && unbound < count, `${unbound} of ${count} launcher pods unscheduled`);
});
