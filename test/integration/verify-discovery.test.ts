/**
 * Finding OpenShift's Thanos querier through kube/ (src/kube/monitoring.ts) against the real
 * apiserver: with a Route CRD of OpenShift's group installed for this test and the
 * `thanos-querier` route in `openshift-monitoring`, discovery returns https://<route host>,
 * the kubeconfig's bearer token and the cluster CA plus the router CA from
 * openshift-config-managed/default-ingress-cert; `verify` then uses it (and says so when the
 * host cannot be reached). Without the route, discovery says there is none.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { KubeApi } from "../../src/kube/api.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { connect } from "../../src/kube/connect.ts";
import { discoverThanosQuerier, NoPrometheusError } from "../../src/kube/monitoring.ts";
import { closeAll, deleteNamespace, startCluster, waitFor } from "./harness.ts";
import { ensureBuilt, virtwork } from "./ops-cli.ts";

after(closeAll);

const CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "routes.route.openshift.io" },
  spec: {
    group: "route.openshift.io",
    scope: "Namespaced",
    names: { plural: "routes", singular: "route", kind: "Route", listKind: "RouteList" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        // client-node serializes the typed model: its name for x-kubernetes-preserve-unknown-fields
        schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
      },
    ],
  },
};
const ROUTER_CA = "-----BEGIN CERTIFICATE-----\nTEST-ROUTER-CA\n-----END CERTIFICATE-----\n";

async function kubeApi(kubeconfig: string) {
  const connection = await connect({ kubeconfig, env: {} });
  const client = await KubeClient.create(connection, { qps: 50, burst: 100 });
  return { api: new KubeApi(client), connection, close: () => client.close() };
}

describe("Thanos querier discovery", () => {
  let kubeconfig: string;
  let ext: k8s.ApiextensionsV1Api;
  let core: k8s.CoreV1Api;
  let custom: k8s.CustomObjectsApi;

  before(async () => {
    const cluster = await startCluster();
    kubeconfig = cluster.adminKubeconfig;
    const kc = cluster.kubeConfig("admin");
    ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    core = kc.makeApiClient(k8s.CoreV1Api);
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await ensureBuilt();
  });
  after(async () => {
    await ext?.deleteCustomResourceDefinition({ name: CRD.metadata.name }).catch(() => {});
    await Promise.all(
      ["openshift-monitoring", "openshift-config-managed"].map((n) => deleteNamespace(n, { wait: false })),
    );
  });

  test("no Route API: NoPrometheusError naming the route; verify says to pass --prometheus-url", async () => {
    const k = await kubeApi(kubeconfig);
    try {
      await assert.rejects(discoverThanosQuerier(k.api, k.connection), (err: unknown) => {
        assert.ok(err instanceof NoPrometheusError);
        assert.match(err.message, /no route openshift-monitoring\/thanos-querier/);
        return true;
      });
    } finally {
      k.close();
    }
    const res = await virtwork(["verify", "-n", "default"], { kubeconfig });
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /^Error: no Prometheus to ask: no route openshift-monitoring\/thanos-querier .* on this cluster; pass --prometheus-url/m,
    );
  });

  test("with the route: https://<host>, the kubeconfig's token, cluster CA + router CA; verify uses it", async () => {
    await ext.createCustomResourceDefinition({ body: CRD });
    await waitFor(
      async () => {
        const crd = await ext.readCustomResourceDefinition({ name: CRD.metadata.name });
        return (
          crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") || undefined
        );
      },
      { timeoutMs: 60_000, what: "Route CRD established" },
    );
    for (const name of ["openshift-monitoring", "openshift-config-managed"])
      await core.createNamespace({ body: { metadata: { name } } }).catch(() => {});
    await core.createNamespacedConfigMap({
      namespace: "openshift-config-managed",
      body: { metadata: { name: "default-ingress-cert" }, data: { "ca-bundle.crt": ROUTER_CA } },
    });
    await waitFor(
      async () =>
        custom
          .createNamespacedCustomObject({
            group: "route.openshift.io",
            version: "v1",
            namespace: "openshift-monitoring",
            plural: "routes",
            body: {
              apiVersion: "route.openshift.io/v1",
              kind: "Route",
              metadata: { name: "thanos-querier" },
              spec: {
                host: "thanos-querier.invalid",
                tls: { termination: "reencrypt" },
                to: { kind: "Service", name: "thanos-querier" },
              },
            },
          })
          .then(() => true)
          .catch(() => undefined),
      { timeoutMs: 60_000, what: "route created (the CRD may take a moment to serve)" },
    );

    const k = await kubeApi(kubeconfig);
    try {
      const ep = await waitFor(
        async () => discoverThanosQuerier(k.api, k.connection).catch(() => undefined),
        {
          timeoutMs: 60_000,
          what: "discovery finds the route",
        },
      );
      assert.equal(ep.url, "https://thanos-querier.invalid");
      const admin = new k8s.KubeConfig();
      admin.loadFromFile(kubeconfig);
      assert.ok(ep.token && ep.token === admin.getCurrentUser()?.token, "the kubeconfig's bearer token");
      const cluster = await startCluster();
      assert.ok(ep.ca?.includes(readFileSync(cluster.caFile, "utf8").trim()), "the cluster CA");
      assert.ok(ep.ca?.includes("TEST-ROUTER-CA"), "the router CA");
      assert.match(ep.source, /Thanos querier route openshift-monitoring\/thanos-querier/);
    } finally {
      k.close();
    }

    const res = await virtwork(["verify", "-n", "openshift-monitoring"], { kubeconfig });
    assert.equal(res.code, 1);
    // discovery worked; there are no virtwork VMs in that namespace to check
    assert.match(res.stderr, /^Error: no virtwork VMs in namespace openshift-monitoring/m);
  });
});
