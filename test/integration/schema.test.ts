import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cloudInitSecret, virtualMachine } from "./fixtures.ts";
import { closeAll, newNamespace, rawRequest, startCluster, type TestNamespace } from "./harness.ts";

after(closeAll);

interface Status {
  kind: string;
  code: number;
  reason: string;
  message: string;
}

describe("the KubeVirt/CDI schemas are the real ones", () => {
  let ns: TestNamespace;
  const vmPath = () => `/apis/kubevirt.io/v1/namespaces/${ns.name}/virtualmachines`;

  before(async () => {
    await startCluster();
    ns = await newNamespace({ prefix: "schema" });
  });

  test("a VM with a misspelled spec field is rejected with fieldValidation=Strict", async () => {
    const vm = virtualMachine({ name: "typo-0", namespace: ns.name }) as Record<string, unknown> & {
      spec: Record<string, unknown>;
    };
    vm.spec.runStrategey = vm.spec.runStrategy; // the typo
    const res = await rawRequest("POST", `${vmPath()}?fieldValidation=Strict`, { body: vm });
    assert.equal(res.status, 400, res.body);
    const st = res.json() as Status;
    assert.equal(st.reason, "BadRequest");
    assert.match(st.message, /unknown field "spec\.runStrategey"/);
  });

  test("a typo deep inside the template is caught too", async () => {
    const vm = virtualMachine({ name: "typo-1", namespace: ns.name });
    const domain = vm.spec.template.spec.domain as Record<string, unknown>;
    domain.cpu = { coress: 2 };
    const res = await rawRequest("POST", `${vmPath()}?fieldValidation=Strict`, { body: vm });
    assert.equal(res.status, 400, res.body);
    assert.match((res.json() as Status).message, /unknown field "spec\.template\.spec\.domain\.cpu\.coress"/);
  });

  test("without Strict the unknown field is pruned and reported in a Warning header", async () => {
    const vm = virtualMachine({ name: "typo-2", namespace: ns.name }) as Record<string, unknown> & {
      spec: Record<string, unknown>;
    };
    vm.spec.runStrategey = "Always";
    const res = await rawRequest("POST", vmPath(), { body: vm });
    assert.equal(res.status, 201, res.body);
    // RFC 7234 warning: 299 - "unknown field \"spec.runStrategey\""
    assert.match(String(res.headers.warning), /^299 - "unknown field \\"spec\.runStrategey\\""$/);
    const created = res.json() as { spec: Record<string, unknown> };
    assert.equal(created.spec.runStrategey, undefined);
  });

  test("a wrongly typed value is Invalid (422)", async () => {
    const vm = virtualMachine({ name: "badtype-0", namespace: ns.name });
    (vm.spec.template.spec.domain as Record<string, unknown>).cpu = { cores: "two" };
    const res = await rawRequest("POST", `${vmPath()}?fieldValidation=Strict`, { body: vm });
    assert.equal(res.status, 422, res.body);
    const st = res.json() as Status;
    assert.equal(st.reason, "Invalid");
    assert.match(st.message, /spec\.template\.spec\.domain\.cpu\.cores/);
  });

  test("a DataVolume template with an unknown source field is rejected", async () => {
    const vm = virtualMachine({ name: "dvtypo-0", namespace: ns.name });
    const tpl = vm.spec.dataVolumeTemplates[0] as { spec: Record<string, unknown> };
    tpl.spec.source = { blankk: {} };
    const res = await rawRequest("POST", `${vmPath()}?fieldValidation=Strict`, { body: vm });
    assert.equal(res.status, 400, res.body);
    assert.match(
      (res.json() as Status).message,
      /unknown field "spec\.dataVolumeTemplates\[0\]\.spec\.source\.blankk"/,
    );
  });

  test("the virtwork-shaped VM and its Secret pass Strict validation", async () => {
    const secret = await rawRequest("POST", `/api/v1/namespaces/${ns.name}/secrets?fieldValidation=Strict`, {
      body: cloudInitSecret("ok-0-cloudinit", ns.name),
    });
    assert.equal(secret.status, 201, secret.body);
    const res = await rawRequest("POST", `${vmPath()}?fieldValidation=Strict`, {
      body: virtualMachine({ name: "ok-0", namespace: ns.name, storageClass: "standard", dataDisks: 2 }),
    });
    assert.equal(res.status, 201, res.body);
    assert.equal(res.headers.warning, undefined);
  });

  test("the served API matches KubeVirt's: v1 and v1alpha3, VM status subresource, VMI none", async () => {
    const crd = (
      await rawRequest(
        "GET",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachines.kubevirt.io",
      )
    ).json() as {
      spec: {
        versions: { name: string; served: boolean; storage: boolean }[];
        names: { shortNames: string[] };
      };
    };
    assert.deepEqual(
      crd.spec.versions.map((v) => [v.name, v.served, v.storage]),
      [
        ["v1", true, true],
        ["v1alpha3", true, false],
      ],
    );
    assert.deepEqual(crd.spec.names.shortNames, ["vm", "vms"]);
    const disc = (await rawRequest("GET", "/apis/kubevirt.io/v1")).json() as {
      resources: { name: string }[];
    };
    const names = disc.resources.map((r) => r.name).sort();
    // every kind virt-operator installs is served; the VM has a status subresource, the VMI none
    for (const r of ["virtualmachineinstances", "virtualmachines", "virtualmachines/status", "kubevirts"]) {
      assert.ok(names.includes(r), `kubevirt.io/v1 serves ${r}: ${names.join(", ")}`);
    }
    assert.ok(!names.includes("virtualmachineinstances/status"), "VMIs have no status subresource");
    const cdi = (await rawRequest("GET", "/apis/cdi.kubevirt.io/v1beta1")).json() as {
      resources: { name: string }[];
    };
    const cdiNames = cdi.resources.map((r) => r.name);
    for (const r of ["datavolumes", "datavolumes/status", "storageprofiles", "cdiconfigs"]) {
      assert.ok(cdiNames.includes(r), `cdi.kubevirt.io/v1beta1 serves ${r}: ${cdiNames.join(", ")}`);
    }
  });
});
