import assert from "node:assert/strict";
import { test } from "node:test";
import { cloudInitSecret, virtualMachine } from "../manifests/objects.ts";
import { Quantity } from "../util/quantity.ts";
import { compareExisting } from "./compare.ts";

const labels = (run: string) => ({
  "app.kubernetes.io/name": "virtwork",
  "app.kubernetes.io/managed-by": "virtwork",
  "virtwork/run-id": run,
});
// biome-ignore lint/suspicious/noExplicitAny: a live object is free-form JSON here.
type Live = Record<string, any>;
const vm = (cores: number, run: string) =>
  virtualMachine({
    name: "vm",
    namespace: "ns",
    labels: labels(run),
    cpuCores: cores,
    memory: Quantity.parse("2Gi") as Quantity,
    image: "img",
    secretName: "vm-cloudinit",
    dataDisks: [],
    diskSize: Quantity.parse("1Gi") as Quantity,
  });

test("a live VM with defaults added and another run id is the same; another cpu count differs", () => {
  const live = JSON.parse(JSON.stringify(vm(2, "old"))) as Live;
  live.spec.template.spec.domain.machine = { type: "q35" }; // a default the server adds
  live.status = { printableStatus: "Running" };
  assert.deepEqual(compareExisting(vm(2, "new"), live), { state: "same", runId: "old" });
  const verdict = compareExisting(vm(4, "new"), live);
  assert.deepEqual(verdict, {
    state: "different",
    runId: "old",
    differences: ["spec.template.spec.domain.cpu.cores: cluster has 2, plan has 4"],
  });
});

test("an object without the managed-by label is foreign, whatever it holds", () => {
  const live = JSON.parse(JSON.stringify(vm(2, "old"))) as Live;
  delete live.metadata.labels["app.kubernetes.io/managed-by"];
  const verdict = compareExisting(vm(2, "new"), live);
  assert.equal(verdict.state, "foreign");
  assert.match((verdict as { problem: string }).problem, /^VirtualMachine\/vm exists and is not virtwork's/);
});

test("a Secret is compared by its decoded data", () => {
  const planned = cloudInitSecret("s", "ns", labels("new"), "#cloud-config\n");
  const live = {
    metadata: { name: "s", labels: labels("old") },
    type: "Opaque",
    data: { userdata: Buffer.from("#cloud-config\n").toString("base64") },
  };
  assert.equal(compareExisting(planned, live).state, "same");
  live.data.userdata = Buffer.from("other").toString("base64");
  assert.deepEqual(compareExisting(planned, live), {
    state: "different",
    runId: "old",
    differences: ["data.userdata: the cluster's content differs from the plan's"],
  });
});
