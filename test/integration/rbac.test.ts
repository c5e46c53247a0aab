import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { virtualMachine } from "./fixtures.ts";
import {
  type ClusterInfo,
  closeAll,
  newNamespace,
  rawRequest,
  startCluster,
  type TestNamespace,
} from "./harness.ts";

after(closeAll);

describe("identities: admin, namespace-limited, unknown", () => {
  let cluster: ClusterInfo;
  let own: TestNamespace;
  let other: TestNamespace;

  before(async () => {
    cluster = await startCluster();
    own = await newNamespace({ prefix: "rbac-own", limitedAccess: true });
    other = await newNamespace({ prefix: "rbac-other" });
  });

  test("the limited identity may create VMs in its namespace", async () => {
    const res = await rawRequest("POST", `/apis/kubevirt.io/v1/namespaces/${own.name}/virtualmachines`, {
      identity: "limited",
      body: virtualMachine({ name: "mine-0", namespace: own.name }),
    });
    assert.equal(res.status, 201, res.body);
  });

  test("the limited identity gets 403 Forbidden outside its namespace", async () => {
    const res = await rawRequest("POST", `/apis/kubevirt.io/v1/namespaces/${other.name}/virtualmachines`, {
      identity: "limited",
      body: virtualMachine({ name: "theirs-0", namespace: other.name }),
    });
    assert.equal(res.status, 403, res.body);
    const st = res.json() as { reason: string; message: string };
    assert.equal(st.reason, "Forbidden");
    assert.match(st.message, /User "virtwork-limited" cannot create resource "virtualmachines"/);
    assert.match(st.message, new RegExp(`in the namespace "${other.name}"`));
  });

  test("through the client library too: ApiException with code 403", async () => {
    const co = cluster.kubeConfig("limited").makeApiClient(k8s.CustomObjectsApi);
    await assert.rejects(
      co.listNamespacedCustomObject({
        group: "kubevirt.io",
        version: "v1",
        namespace: other.name,
        plural: "virtualmachines",
      }),
      (err: unknown) => err instanceof k8s.ApiException && err.code === 403,
    );
    const core = cluster.kubeConfig("limited").makeApiClient(k8s.CoreV1Api);
    await assert.rejects(
      core.createNamespace({ body: { metadata: { name: "limited-may-not" } } }),
      (err: unknown) => err instanceof k8s.ApiException && err.code === 403,
    );
    // …while reads in its own namespace work
    const list = await cluster
      .kubeConfig("limited")
      .makeApiClient(k8s.CoreV1Api)
      .listNamespacedSecret({ namespace: own.name });
    assert.ok(Array.isArray(list.items));
  });

  test("the limited identity still has discovery, like any authenticated user", async () => {
    const res = await rawRequest("GET", "/apis/kubevirt.io/v1", { identity: "limited" });
    assert.equal(res.status, 200);
  });

  test("an unknown token is 401 Unauthorized", async () => {
    const { request } = await import("node:https");
    const { readFileSync } = await import("node:fs");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        new URL("/api/v1/namespaces", cluster.server),
        { ca: readFileSync(cluster.caFile), headers: { Authorization: "Bearer not-a-token" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 401);
  });
});
