/**
 * Issue 14: `cleanup --delete-namespace` deletes a namespace only when virtwork created it and
 * discovery of every listable namespaced type finds nothing but virtwork's objects (and what
 * the cluster makes in every namespace: the `default` ServiceAccount, the kube-root-ca.crt
 * ConfigMap, events). A user's Deployment and ServiceAccount keep it, named in the output.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { closeAll, deleteNamespace, startCluster, startSimulator, waitFor } from "./harness.ts";
import {
  ensureBuilt,
  FAST,
  freshNamespaceName,
  managedObjects,
  namespaceLabels,
  parseJson,
  virtwork,
} from "./ops-cli.ts";

const ns = freshNamespaceName("nsguard");
let kubeconfig: string;

before(async () => {
  await ensureBuilt();
  kubeconfig = (await startCluster()).adminKubeconfig;
  await startSimulator({ namespace: ns, delays: FAST });
});
after(async () => {
  await closeAll();
  await deleteNamespace(ns, { wait: false });
});

test("a foreign Deployment and ServiceAccount keep the namespace (exit 0, both named, both intact); then it goes", async () => {
  const res = await virtwork(["run", "-n", ns, "--workloads", "cpu", "-o", "json"], { kubeconfig });
  assert.equal(res.code, 0, res.stderr);
  assert.equal((await namespaceLabels(ns))?.["app.kubernetes.io/managed-by"], "virtwork", "the mark");

  const kc = (await startCluster()).kubeConfig("admin");
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const web = await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: "web" },
      spec: {
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: "nginx" }] },
        },
      },
    },
  });
  const sa = await core.createNamespacedServiceAccount({
    namespace: ns,
    body: { metadata: { name: "app-sa" } },
  });
  // What a full cluster makes in every namespace (this one runs no such controllers): ignored.
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "default" } } });
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: "kube-root-ca.crt" }, data: { "ca.crt": "x" } },
  });
  await core.createNamespacedEvent({
    namespace: ns,
    body: {
      metadata: { name: "web.1" },
      involvedObject: { kind: "Deployment", name: "web", namespace: ns },
      reason: "Test",
      message: "an event",
    },
  });

  const kept = await virtwork(["cleanup", "-n", ns, "--yes", "--wait", "--delete-namespace"], { kubeconfig });
  assert.equal(kept.code, 0, kept.stdout + kept.stderr);
  assert.match(kept.stdout, /Deleted 1 VirtualMachine, .*1 Secret\./);
  assert.match(
    kept.stdout,
    new RegExp(
      `Namespace ${ns} kept: it holds objects virtwork did not create \\(Deployment/web, ServiceAccount/app-sa\\)\\.`,
    ),
  );
  assert.ok(await namespaceLabels(ns), "kept");
  const webAfter = await apps.readNamespacedDeployment({ name: "web", namespace: ns });
  assert.equal(webAfter.metadata?.uid, web.metadata?.uid, "the Deployment is intact");
  const saAfter = await core.readNamespacedServiceAccount({ name: "app-sa", namespace: ns });
  assert.equal(saAfter.metadata?.uid, sa.metadata?.uid, "the ServiceAccount is intact");
  const virtworks = await managedObjects(ns);
  assert.equal(virtworks.vms.size + virtworks.secrets.size, 0);

  // history of that cleanup: what it deleted and whose, not a run's workload defaults.
  const runId = parseJson<{ runId: string }>(res).runId;
  const list = await virtwork(["history", "-o", "json"], { kubeconfig });
  const cleanupId = parseJson<{ runId: string; command: string }[]>(list).find(
    (r) => r.command === "cleanup",
  )?.runId;
  assert.ok(cleanupId, list.stdout);
  const shown = await virtwork(["history", "show", cleanupId], { kubeconfig });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`^Linked runs: ${runId}$`, "m"));
  assert.match(shown.stdout, /^Deleted: +1 VirtualMachine, 1 Secret$/m);
  assert.match(shown.stdout, /deleteNamespace: true/);
  assert.doesNotMatch(shown.stdout, /cpuCores|containerDiskImage|vmConcurrency/, "no run settings");

  // JSON says the same.
  const json = await virtwork(["cleanup", "-n", ns, "--yes", "--delete-namespace", "-o", "json"], {
    kubeconfig,
  });
  assert.equal(json.code, 0, json.stderr);
  assert.equal(parseJson<{ namespaceDeleted: boolean }>(json).namespaceDeleted, false);

  await apps.deleteNamespacedDeployment({ name: "web", namespace: ns });
  await core.deleteNamespacedServiceAccount({ name: "app-sa", namespace: ns });
  const gone = await virtwork(["cleanup", "-n", ns, "--yes", "--wait", "--delete-namespace"], { kubeconfig });
  assert.equal(gone.code, 0, gone.stdout + gone.stderr);
  assert.match(gone.stdout, new RegExp(`Namespace ${ns} deleted\\.`));
  await waitFor(async () => (await namespaceLabels(ns)) === undefined, {
    timeoutMs: 60_000,
    what: "namespace gone",
  });
});

test("issue 32: a ConfigMap and a custom resource carrying virtwork's labels are not virtwork's: the namespace is kept, both named and intact", async () => {
  const own = freshNamespaceName("nslabel");
  await startSimulator({ namespace: own, delays: FAST });
  const cluster = await startCluster();
  const kc = cluster.kubeConfig("admin");
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const crd = "widgets.test.virtwork.io";
  try {
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: crd },
        spec: {
          group: "test.virtwork.io",
          scope: "Namespaced",
          names: { plural: "widgets", singular: "widget", kind: "Widget" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
            },
          ],
        },
      },
    });
    await waitFor(
      async () =>
        (await ext.readCustomResourceDefinition({ name: crd })).status?.conditions?.some(
          (c) => c.type === "Established" && c.status === "True",
        ) ?? false,
      { timeoutMs: 30_000, what: "Widget CRD established" },
    );
    const res = await virtwork(["run", "-n", own, "--workloads", "cpu", "-o", "json"], { kubeconfig });
    assert.equal(res.code, 0, res.stderr);
    // The labels of virtwork's own VM, copied onto a user's ConfigMap and a Widget.
    const vms = await managedObjects(own);
    const labels = [...vms.vms.values()][0] ?? {};
    assert.equal(labels["app.kubernetes.io/managed-by"], "virtwork", JSON.stringify(labels));
    const cm = await core.createNamespacedConfigMap({
      namespace: own,
      body: { metadata: { name: "user-config", labels }, data: { keep: "me" } },
    });
    const widget = (await custom.createNamespacedCustomObject({
      group: "test.virtwork.io",
      version: "v1",
      namespace: own,
      plural: "widgets",
      body: {
        apiVersion: "test.virtwork.io/v1",
        kind: "Widget",
        metadata: { name: "w1", labels },
        spec: { a: 1 },
      },
    })) as { metadata: { uid: string } };

    const kept = await virtwork(["cleanup", "-n", own, "--yes", "--wait", "--delete-namespace"], {
      kubeconfig,
    });
    assert.equal(kept.code, 0, kept.stdout + kept.stderr);
    assert.match(kept.stdout, /Deleted 1 VirtualMachine, /);
    assert.match(
      kept.stdout,
      new RegExp(
        `Namespace ${own} kept: it holds objects virtwork did not create \\(ConfigMap/user-config, Widget/w1\\)\\.`,
      ),
    );
    assert.ok(await namespaceLabels(own), "the namespace is kept");
    const cmAfter = await core.readNamespacedConfigMap({ name: "user-config", namespace: own });
    assert.equal(cmAfter.metadata?.uid, cm.metadata?.uid, "the ConfigMap is intact");
    assert.deepEqual(cmAfter.data, { keep: "me" });
    const widgetAfter = (await custom.getNamespacedCustomObject({
      group: "test.virtwork.io",
      version: "v1",
      namespace: own,
      plural: "widgets",
      name: "w1",
    })) as { metadata: { uid: string } };
    assert.equal(widgetAfter.metadata.uid, widget.metadata.uid, "the Widget is intact");
  } finally {
    await deleteNamespace(own, { wait: true }).catch(() => {});
    await ext.deleteCustomResourceDefinition({ name: crd }).catch(() => {});
  }
});
