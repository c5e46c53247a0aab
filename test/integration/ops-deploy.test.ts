/**
 * Issue 4 acceptance, end to end with the built CLI: a default run reaches Running for every
 * VM and exits 0, every object carries the labels, a second identical run creates nothing new,
 * `virtwork status` shows the VMs, and `--dry-run=server` has the cluster check every object
 * while creating nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { closeAll, deleteNamespace, newNamespace, startCluster, startSimulator } from "./harness.ts";
import {
  DEFAULT_SECRETS,
  DEFAULT_SERVICES,
  DEFAULT_VMS,
  ensureBuilt,
  FAST,
  freshNamespaceName,
  managedObjects,
  names,
  namespaceLabels,
  objectsIn,
  parseJson,
  virtwork,
} from "./ops-cli.ts";

after(closeAll);

interface Summary {
  runId: string;
  namespace: string;
  outcome: string;
  namespaceCreated: boolean;
  created: Record<string, number>;
  existing: Record<string, number>;
  workloads: { name: string; vms: number; ready: number; failed: number }[];
  vms: { name: string; phase: string; node?: string; ip?: string; createdAt?: string; runningAt?: string }[];
  timings: { createdToRunningP50Ms?: number; createdToRunningP95Ms?: number };
}

interface StatusRow {
  runId: string;
  name: string;
  workload: string;
  role: string;
  phase: string;
  node: string;
  ip: string;
}

describe("virtwork run (default plan) in a namespace it creates", () => {
  const ns = freshNamespaceName("deploy");
  let kubeconfig: string;
  let first: Summary;
  const versions = new Map<string, string>();

  before(async () => {
    const cluster = await startCluster();
    kubeconfig = cluster.adminKubeconfig;
    await ensureBuilt();
    await startSimulator({ namespace: ns, delays: FAST });
  });
  after(() => deleteNamespace(ns, { wait: false }));

  test("reaches Running for every VM and exits 0", async () => {
    const res = await virtwork(["run", "-n", ns, "-o", "json", "--timeout", "120"], { kubeconfig });
    assert.equal(res.code, 0, res.stderr);
    first = parseJson<Summary>(res);
    assert.equal(first.outcome, "ready");
    assert.equal(first.namespace, ns);
    assert.equal(first.namespaceCreated, true);
    assert.deepEqual(first.created, { Namespace: 1, Service: 2, Secret: 8, VirtualMachine: 8 });
    assert.deepEqual(first.existing, {});
    assert.deepEqual(first.vms.map((v) => v.name).sort(), DEFAULT_VMS);
    for (const vm of first.vms) {
      assert.equal(vm.phase, "Running", vm.name);
      assert.match(vm.node ?? "", /^sim-node-\d+$/, vm.name);
      assert.match(vm.ip ?? "", /^10\.128\.0\.\d+$/, vm.name);
      assert.ok(vm.createdAt && vm.runningAt, `${vm.name} has created and running times`);
      assert.ok(Date.parse(vm.runningAt as string) >= Date.parse(vm.createdAt as string), vm.name);
    }
    for (const w of first.workloads) assert.equal(w.ready, w.vms, w.name);
    assert.ok((first.timings.createdToRunningP50Ms ?? -1) >= 0);
    assert.ok((first.timings.createdToRunningP95Ms ?? -1) >= (first.timings.createdToRunningP50Ms ?? 0));
  });

  test("every object has the labels (namespace, Services, Secrets, VMs, VMIs)", async () => {
    const runLabels = {
      "app.kubernetes.io/name": "virtwork",
      "app.kubernetes.io/managed-by": "virtwork",
      "virtwork/run-id": first.runId,
    };
    const nsLabels = await namespaceLabels(ns);
    assert.ok(nsLabels, "namespace exists");
    for (const [k, v] of Object.entries(runLabels)) assert.equal(nsLabels[k], v, `namespace label ${k}`);

    // Everything in the namespace (no selector) is virtwork's and labelled.
    const all = await objectsIn(ns);
    assert.deepEqual(names(all.vms), DEFAULT_VMS);
    assert.deepEqual(names(all.vmis), DEFAULT_VMS);
    assert.deepEqual(names(all.services), DEFAULT_SERVICES);
    // The Secrets are the 8 cloud-init ones (no service-account tokens on this cluster).
    assert.deepEqual(names(all.secrets), DEFAULT_SECRETS);
    const workloadOf = (name: string) =>
      name.replace(/^virtwork-/, "").replace(/-(server|client)?-?\d+.*$/, "");
    for (const [kind, map] of Object.entries(all)) {
      for (const [name, labels] of map as Map<string, Record<string, string>>) {
        if (kind === "dataVolumes") continue; // made by CDI (the simulator) from the VM's templates
        for (const [k, v] of Object.entries(runLabels)) assert.equal(labels[k], v, `${kind} ${name}: ${k}`);
        if (kind !== "services") {
          assert.equal(labels["app.kubernetes.io/component"], workloadOf(name), `${kind} ${name}: component`);
        }
        if (/-(server|client)-\d/.test(name) && kind !== "secrets") {
          assert.equal(
            labels["virtwork/role"],
            /-server-/.test(name) ? "server" : "client",
            `${kind} ${name}`,
          );
        }
      }
    }
    const cluster = await startCluster();
    const core = cluster.kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
    for (const s of (await core.listNamespacedSecret({ namespace: ns })).items) {
      versions.set(`Secret/${s.metadata?.name}`, s.metadata?.resourceVersion ?? "");
    }
    for (const s of (await core.listNamespacedService({ namespace: ns })).items) {
      versions.set(`Service/${s.metadata?.name}`, s.metadata?.resourceVersion ?? "");
    }
    const namespace = await core.readNamespace({ name: ns });
    versions.set("Namespace", namespace.metadata?.resourceVersion ?? "");
  });

  test("a second identical run creates nothing new, modifies nothing, and exits 0", async () => {
    const res = await virtwork(["run", "-n", ns, "-o", "json", "--timeout", "60"], { kubeconfig });
    assert.equal(res.code, 0, res.stderr);
    const second = parseJson<Summary>(res);
    assert.equal(second.outcome, "ready");
    assert.notEqual(second.runId, first.runId);
    assert.equal(second.namespaceCreated, false);
    assert.deepEqual(second.created, {});
    assert.deepEqual(second.existing, { Service: 2, Secret: 8, VirtualMachine: 8 });
    for (const vm of second.vms) assert.equal(vm.phase, "Running", vm.name);

    const all = await objectsIn(ns);
    assert.deepEqual(names(all.vms), DEFAULT_VMS);
    assert.deepEqual(names(all.secrets), DEFAULT_SECRETS);
    assert.deepEqual(names(all.services), DEFAULT_SERVICES);
    // Existing objects keep the first run's labels; none was updated.
    for (const [name, labels] of all.vms) assert.equal(labels["virtwork/run-id"], first.runId, name);
    assert.equal((await managedObjects(ns, second.runId)).vms.size, 0);
    const cluster = await startCluster();
    const core = cluster.kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
    for (const s of (await core.listNamespacedSecret({ namespace: ns })).items) {
      assert.equal(s.metadata?.resourceVersion, versions.get(`Secret/${s.metadata?.name}`), s.metadata?.name);
    }
    for (const s of (await core.listNamespacedService({ namespace: ns })).items) {
      assert.equal(
        s.metadata?.resourceVersion,
        versions.get(`Service/${s.metadata?.name}`),
        s.metadata?.name,
      );
    }
    const namespace = await core.readNamespace({ name: ns });
    assert.equal(namespace.metadata?.resourceVersion, versions.get("Namespace"), "namespace not modified");
  });

  test("virtwork status shows the VMs with phase, node, IP, workload and role", async () => {
    const table = await virtwork(["status", "-n", ns], { kubeconfig });
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    // kubectl style: NAME first, the run id short (whole with -o wide).
    assert.match(lines[0] ?? "", /^NAME\s+WORKLOAD\s+ROLE\s+PHASE\s+NODE\s+IP\s+AGE\s+RUN$/);
    assert.equal(lines.length, 1 + DEFAULT_VMS.length, table.stdout);
    for (const vm of DEFAULT_VMS) {
      const line = lines.find((l) => l.split(/\s+/)[0] === vm);
      assert.ok(line, `${vm} listed`);
      assert.match(
        line,
        new RegExp(
          `^${vm}\\s+\\S+\\s+\\S+\\s+Running\\s+sim-node-\\d+\\s+10\\.128\\.0\\.\\d+\\s+\\d+[smhd]\\s+${first.runId.slice(0, 8)}$`,
        ),
      );
    }
    const wide = await virtwork(["status", "-n", ns, "-o", "wide"], { kubeconfig });
    assert.match(wide.stdout, new RegExp(`\\s${first.runId}$`, "m"));

    const json = await virtwork(["status", "-n", ns, "--run-id", first.runId, "-o", "json"], { kubeconfig });
    assert.equal(json.code, 0, json.stderr);
    const rows = parseJson<StatusRow[]>(json);
    assert.deepEqual(rows.map((r) => r.name).sort(), DEFAULT_VMS);
    const byName = new Map(rows.map((r) => [r.name, r]));
    assert.equal(byName.get("virtwork-network-server-0")?.workload, "network");
    assert.equal(byName.get("virtwork-network-server-0")?.role, "server");
    assert.equal(byName.get("virtwork-tps-client-0")?.role, "client");
    assert.equal(byName.get("virtwork-cpu-0")?.role, "");
    for (const r of rows) {
      assert.equal(r.runId, first.runId);
      assert.equal(r.phase, "Running");
      assert.match(r.node ?? "", /^sim-node-\d+$/);
      assert.ok(r.ip);
    }

    const other = await virtwork(["status", "-n", ns, "--run-id", "no-such-run"], { kubeconfig });
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stdout, /No virtwork VMs in namespace .* for run no-such-run/);
  });
});

describe("virtwork run --dry-run=server", () => {
  test("in a namespace that does not exist: the cluster checks everything, nothing is created", async () => {
    const cluster = await startCluster();
    const ns = freshNamespaceName("dryrun");
    const res = await virtwork(["run", "--dry-run=server", "-n", ns, "--workloads", "all", "-o", "json"], {
      kubeconfig: cluster.adminKubeconfig,
    });
    assert.equal(res.code, 0, res.stderr);
    const summary = parseJson<Summary>(res);
    assert.equal(summary.outcome, "checked");
    assert.equal(summary.namespaceCreated, false);
    assert.equal(await namespaceLabels(ns), undefined, "the namespace was not created");
    // The namespaced objects were checked in "default" (the target does not exist yet): none persisted.
    const leftovers = await managedObjects("default", summary.runId);
    for (const [kind, map] of Object.entries(leftovers)) assert.equal(map.size, 0, `${kind} in default`);
  });

  test("in an existing namespace: every object reaches admission, none persists", async () => {
    const ns = await newNamespace({ prefix: "dryrun" });
    const inj = await ns.faults();
    inj.set({ rate: 0, code: 500 }); // count what admission sees, deny nothing
    const res = await virtwork(["run", "--dry-run=server", "-n", ns.name, "-o", "json"], {
      kubeconfig: ns.kubeconfig(),
    });
    assert.equal(res.code, 0, res.stderr);
    const summary = parseJson<Summary>(res);
    assert.equal(summary.outcome, "checked");
    assert.deepEqual(summary.created, { Service: 2, Secret: 8, VirtualMachine: 8 });
    assert.equal(inj.stats().seen, 18, "the cluster's admission saw all 18 objects");
    const all = await objectsIn(ns.name);
    for (const [kind, map] of Object.entries(all)) assert.equal(map.size, 0, `${kind}: ${names(map)}`);
  });
});
