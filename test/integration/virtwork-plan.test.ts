import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import {
  closeAll,
  newNamespace,
  REPO_ROOT,
  rawRequest,
  run,
  startCluster,
  type TestNamespace,
  waitFor,
} from "./harness.ts";

after(closeAll);

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

const PLURAL: Record<string, string> = {
  Namespace: "namespaces",
  Service: "services",
  Secret: "secrets",
  VirtualMachine: "virtualmachines",
};

function collectionPath(o: Obj): string {
  const plural = PLURAL[o.kind];
  assert.ok(plural, `unexpected kind ${o.kind} in the plan`);
  const base = o.apiVersion === "v1" ? "/api/v1" : `/apis/${o.apiVersion}`;
  return o.kind === "Namespace"
    ? `${base}/${plural}`
    : `${base}/namespaces/${o.metadata.namespace}/${plural}`;
}

/**
 * virtwork's own dry-run output (every workload), sent object by object with
 * fieldValidation=Strict: the real KubeVirt/CDI schemas accept every field virtwork writes,
 * and the simulator brings every VM to Running.
 */
describe("virtwork's plan against the real schemas", () => {
  let ns: TestNamespace;
  let items: Obj[];

  before(async () => {
    await startCluster();
    ns = await newNamespace({ prefix: "plan" });
    const res = await run(join(REPO_ROOT, "bin/virtwork"), [
      "run",
      "--dry-run",
      "-o",
      "json",
      "--workloads",
      "all",
      "--namespace",
      ns.name,
    ]);
    assert.equal(res.code, 0, res.stderr);
    items = (JSON.parse(res.stdout) as { items: Obj[] }).items;
  });

  test("every object of `virtwork run --workloads all` passes Strict validation", async () => {
    assert.ok(items.some((o) => o.kind === "VirtualMachine"));
    for (const o of items) {
      const res = await rawRequest("POST", `${collectionPath(o)}?fieldValidation=Strict`, { body: o });
      if (o.kind === "Namespace" && res.status === 409) continue; // the harness created it
      assert.equal(res.status, 201, `${o.kind}/${o.metadata.name}: ${res.body}`);
      assert.equal(
        res.headers.warning,
        undefined,
        `${o.kind}/${o.metadata.name}: ${String(res.headers.warning)}`,
      );
    }
  });

  test("the stored VMs and Services keep the shape virtwork planned (nothing pruned or defaulted away)", async () => {
    // Every field of the plan's VM shape, read back from the API server as stored.
    const stored = async (o: Obj) =>
      (await rawRequest("GET", `${collectionPath(o)}/${o.metadata.name}`)).json() as {
        spec: { template: { spec: Record<string, unknown> & { domain: Record<string, unknown> } } };
      };
    const byName = new Map(items.map((o) => [o.metadata.name, o]));
    const server = byName.get("virtwork-network-server-0");
    const db = byName.get("virtwork-database-0");
    assert.ok(server && db);
    const serverSpec = (await stored(server)).spec.template.spec;
    assert.equal(serverSpec.hostname, "virtwork-network-server-0");
    assert.equal(serverSpec.subdomain, "virtwork-iperf3-server");
    assert.equal(serverSpec.evictionStrategy, "LiveMigrateIfPossible");
    // The readiness probe through the guest agent is kept as planned.
    const planned = server as unknown as { spec: { template: { spec: { readinessProbe: unknown } } } };
    assert.deepEqual(serverSpec.readinessProbe, planned.spec.template.spec.readinessProbe);
    assert.deepEqual((serverSpec.readinessProbe as { exec: { command: string[] } }).exec.command, [
      "/usr/local/libexec/virtwork/readiness-probe",
    ]);
    const dbSpec = (await stored(db)).spec.template.spec;
    assert.equal(dbSpec.terminationGracePeriodSeconds, 180);
    assert.deepEqual(dbSpec.domain.memory, { guest: "2Gi" });
    assert.deepEqual(dbSpec.domain.resources, { requests: { cpu: "2" } });
    assert.deepEqual((dbSpec.domain.devices as { rng?: unknown }).rng, {});
    const svc = byName.get("virtwork-iperf3-server");
    assert.ok(svc);
    const svcSpec = (
      (await rawRequest("GET", `${collectionPath(svc)}/virtwork-iperf3-server`)).json() as {
        spec: { clusterIP?: string; publishNotReadyAddresses?: boolean };
      }
    ).spec;
    assert.equal(svcSpec.clusterIP, "None", "headless");
    assert.equal(svcSpec.publishNotReadyAddresses, true);
  });

  test("the simulator brings every planned VM to Running", async () => {
    await ns.simulate({ delays: { scheduled: 50, running: 50, dataVolume: 100 } });
    const co = (await startCluster()).kubeConfig("admin").makeApiClient(k8s.CustomObjectsApi);
    const vms = items.filter((o) => o.kind === "VirtualMachine").map((o) => o.metadata.name);
    await waitFor(
      async () => {
        const list = (await co.listNamespacedCustomObject({
          group: "kubevirt.io",
          version: "v1",
          namespace: ns.name,
          plural: "virtualmachineinstances",
        })) as { items: { metadata: { name: string }; status?: { phase?: string } }[] };
        const running = list.items.filter((i) => i.status?.phase === "Running").map((i) => i.metadata.name);
        return vms.every((v) => running.includes(v));
      },
      { timeoutMs: 60_000, what: `${vms.length} VMIs Running` },
    );
  });
});
