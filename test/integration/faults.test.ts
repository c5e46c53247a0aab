import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { cloudInitSecret, virtualMachine } from "./fixtures.ts";
import {
  type ClusterInfo,
  closeAll,
  newNamespace,
  rawRequest,
  startCluster,
  type TestNamespace,
  waitFor,
} from "./harness.ts";

after(closeAll);

describe("fault injection through a validating webhook served by the test process", () => {
  let cluster: ClusterInfo;
  let ns: TestNamespace;
  let n = 0;
  const createConfigMap = () =>
    rawRequest("POST", `/api/v1/namespaces/${ns.name}/configmaps`, {
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${n++}` }, data: { k: "v" } },
    });

  before(async () => {
    cluster = await startCluster();
    ns = await newNamespace({ prefix: "faults" });
  });

  test("with 429 injection at 30%, a plain client sees 429s with Retry-After at about that rate", async () => {
    await ns.setFaults({ rate: 0.3, code: 429, retryAfterSeconds: 2, seed: 42 });
    const total = 200;
    let throttled = 0;
    for (let i = 0; i < total; i++) {
      const res = await createConfigMap();
      if (res.status === 429) {
        throttled++;
        assert.equal(res.headers["retry-after"], "2");
        const st = res.json() as { reason: string; code: number; details?: { retryAfterSeconds?: number } };
        assert.equal(st.reason, "TooManyRequests");
        assert.equal(st.code, 429);
        assert.equal(st.details?.retryAfterSeconds, 2);
      } else {
        assert.equal(res.status, 201, res.body);
      }
    }
    const rate = throttled / total;
    // binomial(200, 0.3): sd ≈ 0.032; ±0.1 is > 3 sd
    assert.ok(rate > 0.2 && rate < 0.4, `observed 429 rate ${rate}`);
    const stats = (await ns.faults()).stats();
    assert.equal(stats.denied, throttled);
    assert.equal(stats.seen, total);
    // denied creates really did not happen
    const list = await rawRequest("GET", `/api/v1/namespaces/${ns.name}/configmaps?labelSelector=`);
    const names = (list.json() as { items: { metadata: { name: string } }[] }).items
      .map((i) => i.metadata.name)
      .filter((x) => x.startsWith("cm-"));
    assert.equal(names.length, total - throttled);
  });

  test("the client library surfaces the 429 as an ApiException with the Retry-After header", async () => {
    await ns.setFaults({ rate: 1, code: 429, retryAfterSeconds: 3 });
    const core = cluster.kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
    await assert.rejects(
      core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: "lib-0" } } }),
      (err: unknown) =>
        err instanceof k8s.ApiException && err.code === 429 && err.headers["retry-after"] === "3",
    );
  });

  test("500 injection answers InternalError; reads are unaffected", async () => {
    await ns.setFaults({ rate: 1, code: 500 });
    const res = await createConfigMap();
    assert.equal(res.status, 500);
    assert.equal((res.json() as { reason: string }).reason, "InternalError");
    const get = await rawRequest("GET", `/api/v1/namespaces/${ns.name}/configmaps`);
    assert.equal(get.status, 200);
  });

  test("count limits the faults: 429 twice, then success", async () => {
    await ns.setFaults({ rate: 1, code: 429, count: 2 });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await createConfigMap()).status);
    assert.deepEqual(codes, [429, 429, 201, 201]);
  });

  test("faults off: every create succeeds", async () => {
    await ns.setFaults(null);
    for (let i = 0; i < 10; i++) assert.equal((await createConfigMap()).status, 201);
  });

  test("the simulator's own writes are exempt: its VMI still reaches Running while every client create fails", async () => {
    await ns.simulate({ delays: { scheduled: 100, running: 100, dataVolume: 100 } });
    const core = cluster.kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
    const co = cluster.kubeConfig("admin").makeApiClient(k8s.CustomObjectsApi);
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: cloudInitSecret("sim-0-cloudinit", ns.name),
    });
    await co.createNamespacedCustomObject({
      group: "kubevirt.io",
      version: "v1",
      namespace: ns.name,
      plural: "virtualmachines",
      body: virtualMachine({ name: "sim-0", namespace: ns.name }),
    });
    await ns.setFaults({ rate: 1, code: 500 });
    await waitFor(
      async () => {
        const vmi = (await co.getNamespacedCustomObject({
          group: "kubevirt.io",
          version: "v1",
          namespace: ns.name,
          plural: "virtualmachineinstances",
          name: "sim-0",
        })) as { status?: { phase?: string } };
        return vmi.status?.phase === "Running";
      },
      { what: "VMI Running under fault injection" },
    );
    assert.equal((await createConfigMap()).status, 500);
    await ns.setFaults(null);
  });
});
