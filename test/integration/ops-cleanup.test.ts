/**
 * Issue 4 acceptance, `virtwork cleanup` with the built CLI: it never touches unlabelled (or
 * foreign-labelled) objects in the same namespace, `--run-id` removes only that run, and the
 * `--delete-namespace` rules hold: only a namespace virtwork created, only when no other run's
 * objects and nothing of anyone else's remain in it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { virtualMachine } from "./fixtures.ts";
import { closeAll, deleteNamespace, newNamespace, startCluster, startSimulator, waitFor } from "./harness.ts";
import {
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

interface CleanupJson {
  preview: { total: number; runIds: string[]; objects: Record<string, string[]> };
  deleted: Record<string, number> | null;
  errors?: string[];
  namespaceDeleted?: boolean;
  namespaceKept?: string;
}

async function deploy(ns: string, kubeconfig: string, workloads: string): Promise<string> {
  const res = await virtwork(["run", "-n", ns, "--workloads", workloads, "-o", "json"], { kubeconfig });
  assert.equal(res.code, 0, res.stderr);
  const summary = parseJson<{ runId: string; outcome: string }>(res);
  assert.equal(summary.outcome, "ready");
  return summary.runId;
}

async function cleanup(ns: string, kubeconfig: string, ...args: string[]) {
  const res = await virtwork(["cleanup", "-n", ns, "--yes", "--wait", "-o", "json", ...args], { kubeconfig });
  assert.equal(res.code, 0, res.stderr);
  return parseJson<CleanupJson>(res);
}

function admin() {
  return startCluster().then((c) => {
    const kc = c.kubeConfig("admin");
    return { core: kc.makeApiClient(k8s.CoreV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi) };
  });
}

describe("cleanup in a namespace virtwork did not create", () => {
  let ns: Awaited<ReturnType<typeof newNamespace>>;
  let kubeconfig: string;
  let runA: string;
  let runB: string;
  /** name → uid of the objects that are not virtwork's */
  const foreign = new Map<string, string>();

  async function foreignUids(): Promise<Map<string, string>> {
    const { core, custom } = await admin();
    const out = new Map<string, string>();
    for (const s of (await core.listNamespacedSecret({ namespace: ns.name })).items)
      out.set(`Secret/${s.metadata?.name}`, s.metadata?.uid ?? "");
    for (const c of (await core.listNamespacedConfigMap({ namespace: ns.name })).items)
      out.set(`ConfigMap/${c.metadata?.name}`, c.metadata?.uid ?? "");
    for (const s of (await core.listNamespacedService({ namespace: ns.name })).items)
      out.set(`Service/${s.metadata?.name}`, s.metadata?.uid ?? "");
    const vms = (await custom.listNamespacedCustomObject({
      group: "kubevirt.io",
      version: "v1",
      namespace: ns.name,
      plural: "virtualmachines",
    })) as { items: { metadata: { name: string; uid: string } }[] };
    for (const v of vms.items) out.set(`VirtualMachine/${v.metadata.name}`, v.metadata.uid);
    for (const key of [...out.keys()]) if (!foreign.has(key) && foreign.size) out.delete(key);
    return out;
  }

  before(async () => {
    await ensureBuilt();
    ns = await newNamespace({ prefix: "cleanup" });
    await ns.simulate({ delays: FAST });
    kubeconfig = ns.kubeconfig();
    const { core, custom } = await admin();
    const namespace = ns.name;
    // Not virtwork's: no labels, another manager's label, and a run-id label without managed-by.
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "keep-plain" }, stringData: { a: "b" } },
    });
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: "keep-other-manager", labels: { "app.kubernetes.io/managed-by": "helm" } },
        stringData: { a: "b" },
      },
    });
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: { name: "keep-cm", labels: { "virtwork/run-id": "copied-label" } },
        data: { a: "b" },
      },
    });
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: "keep-svc" }, spec: { ports: [{ port: 80 }], selector: { app: "x" } } },
    });
    const vm = virtualMachine({ name: "keep-vm", namespace, runStrategy: "Halted", dataDisks: 0 }) as {
      metadata: { labels?: unknown };
      spec: { template: { metadata: { labels?: unknown } } };
    };
    delete vm.metadata.labels;
    vm.spec.template.metadata.labels = { app: "mine" };
    await custom.createNamespacedCustomObject({
      group: "kubevirt.io",
      version: "v1",
      namespace,
      plural: "virtualmachines",
      body: vm,
    });
    for (const [k, v] of await foreignUids()) foreign.set(k, v);
    assert.equal(foreign.size, 5, [...foreign.keys()].join(", "));

    runA = await deploy(ns.name, kubeconfig, "cpu");
    runB = await deploy(ns.name, kubeconfig, "memory,network");
  });

  test("without a terminal, cleanup refuses to run without --yes and deletes nothing", async () => {
    const res = await virtwork(["cleanup", "-n", ns.name], { kubeconfig });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /^Error: --yes: cleanup needs --yes when there is no terminal/m);
    assert.equal((await managedObjects(ns.name)).vms.size, 4);
  });

  test("--dry-run previews both runs and deletes nothing", async () => {
    const res = await virtwork(["cleanup", "-n", ns.name, "--dry-run", "-o", "json"], { kubeconfig });
    assert.equal(res.code, 0, res.stderr);
    const out = parseJson<CleanupJson>(res);
    assert.equal(out.deleted, null);
    assert.deepEqual(out.preview.runIds, [runA, runB].sort());
    assert.deepEqual(out.preview.objects.vms?.sort(), [
      "virtwork-cpu-0",
      "virtwork-memory-0",
      "virtwork-network-client-0",
      "virtwork-network-server-0",
    ]);
    assert.equal(out.preview.total, 4 + 4 + 1); // VMs, Secrets, the iperf3 Service
    assert.equal((await managedObjects(ns.name)).vms.size, 4);
  });

  test("--run-id removes only that run", async () => {
    const out = await cleanup(ns.name, kubeconfig, "--run-id", runA);
    assert.deepEqual(out.preview.runIds, [runA]);
    assert.equal(out.deleted?.vms, 1);
    assert.equal(out.deleted?.secrets, 1);
    const a = await managedObjects(ns.name, runA);
    for (const [kind, map] of Object.entries(a)) assert.equal(map.size, 0, `run A ${kind}: ${names(map)}`);
    const b = await managedObjects(ns.name, runB);
    assert.deepEqual(names(b.vms), [
      "virtwork-memory-0",
      "virtwork-network-client-0",
      "virtwork-network-server-0",
    ]);
    assert.equal(b.secrets.size, 3);
    assert.deepEqual(names(b.services), ["virtwork-iperf3-server"]);
    assert.deepEqual(await foreignUids(), foreign, "objects that are not virtwork's are untouched");
  });

  test("cleanup of everything leaves unlabelled objects, and --delete-namespace keeps a namespace virtwork did not create", async () => {
    const out = await cleanup(ns.name, kubeconfig, "--delete-namespace");
    assert.deepEqual(out.preview.runIds, [runB]);
    assert.equal(out.namespaceDeleted, false);
    assert.equal(out.namespaceKept, "virtwork did not create it");
    const all = await managedObjects(ns.name);
    for (const [kind, map] of Object.entries(all)) assert.equal(map.size, 0, `${kind}: ${names(map)}`);
    assert.deepEqual(await foreignUids(), foreign, "objects that are not virtwork's are untouched");
    assert.ok(await namespaceLabels(ns.name), "the namespace is still there");
    // Only the foreign VM (Halted: no VMI) is left of the VMs; VMIs of virtwork's VMs are gone.
    const left = await objectsIn(ns.name);
    assert.deepEqual(names(left.vms), ["keep-vm"]);
    await waitFor(async () => (await objectsIn(ns.name)).vmis.size === 0, { what: "VMIs gone" });
  });
});

describe("--delete-namespace on a namespace virtwork created", () => {
  const ns = freshNamespaceName("cleanns");
  let kubeconfig: string;

  before(async () => {
    kubeconfig = (await startCluster()).adminKubeconfig;
    await startSimulator({ namespace: ns, delays: FAST });
  });
  after(() => deleteNamespace(ns, { wait: false }));

  test("kept while another run's objects remain, or anything that is not virtwork's; deleted when empty", async () => {
    const runC = await deploy(ns, kubeconfig, "cpu");
    const runD = await deploy(ns, kubeconfig, "memory");
    assert.equal((await namespaceLabels(ns))?.["app.kubernetes.io/managed-by"], "virtwork");

    // 1. --run-id with another run left in the namespace.
    let out = await cleanup(ns, kubeconfig, "--run-id", runC, "--delete-namespace");
    assert.equal(out.namespaceDeleted, false);
    assert.equal(out.namespaceKept, "objects of other virtwork runs remain");
    assert.deepEqual(names((await managedObjects(ns)).vms), ["virtwork-memory-0"]);

    // 2. Something of someone else's lives there.
    const { core } = await admin();
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "user-data" }, data: { a: "b" } },
    });
    out = await cleanup(ns, kubeconfig, "--delete-namespace");
    assert.deepEqual(out.preview.runIds, [runD]);
    assert.equal(out.namespaceDeleted, false);
    assert.match(
      out.namespaceKept ?? "",
      /^it holds objects virtwork did not create \(ConfigMap\/user-data\)$/,
    );
    assert.equal((await managedObjects(ns)).vms.size, 0);
    assert.ok(await namespaceLabels(ns), "kept");
    await core.readNamespacedConfigMap({ name: "user-data", namespace: ns });

    // 3. Nothing but virtwork's (here: nothing at all) → the namespace goes.
    await core.deleteNamespacedConfigMap({ name: "user-data", namespace: ns });
    out = await cleanup(ns, kubeconfig, "--delete-namespace");
    assert.equal(out.preview.total, 0);
    assert.equal(out.namespaceDeleted, true, JSON.stringify(out));
    await waitFor(async () => (await namespaceLabels(ns)) === undefined, {
      timeoutMs: 60_000,
      what: `namespace ${ns} gone`,
    });
  });
});
