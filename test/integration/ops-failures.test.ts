/**
 * Issue 4 acceptance, failures, with the built CLI:
 *  - a VMI that fails (the simulator's per-VM failure option) fails the run within seconds,
 *    with the reason, not after the timeout; an unschedulable VM is reported at the timeout
 *    with its phase and condition;
 *  - a DataVolume on storage class `missing` is reported as such;
 *  - the limited identity gets a 403 message naming verb and resource, and can deploy in the
 *    namespace it is granted (without the right to read the namespace object);
 *  - missing CRDs give one clear error and create nothing. The shared cluster must keep its
 *    CRDs (other test files use them), so this runs against a private second cluster
 *    (cluster-up.sh with its own VIRTWORK_CLUSTER_DIR) whose CRDs the test deletes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { CLUSTER_SCRIPTS, closeAll, newNamespace, run, startCluster, waitFor } from "./harness.ts";
import { FAST, freshNamespaceName, names, objectsIn, parseJson, virtwork } from "./ops-cli.ts";

after(closeAll);

const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("Error:"));

describe("VM and DataVolume failures end the run with the reason", () => {
  test("a VMI that fails fails the run within seconds, with the reason", async () => {
    const ns = await newNamespace({ prefix: "vmifail" });
    await ns.simulate({ delays: FAST, failures: { "virtwork-memory-0": "Failed" } });
    const res = await virtwork(["run", "-n", ns.name, "--workloads", "cpu,memory", "--timeout", "300"], {
      kubeconfig: ns.kubeconfig(),
    });
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.ok(res.ms < 15_000, `failed after ${res.ms} ms, not at the 300 s timeout`);
    const errors = errorLines(res.stderr);
    assert.equal(errors.length, 1, res.stderr);
    assert.match(errors[0] ?? "", /VM virtwork-memory-0: .*qemu unexpectedly closed the monitor.*; look at/);
    // The failure is printed once, on stderr; the summary only names the outcome.
    assert.match(res.stdout, /: failed$/m);
    assert.doesNotMatch(res.stdout, /qemu unexpectedly closed/);
    assert.match(res.stdout, /^memory\s+1\s+0\s+1$/m, res.stdout);
  });

  test("an unschedulable VM is reported at the timeout with its phase and condition", async () => {
    const ns = await newNamespace({ prefix: "unsched" });
    await ns.simulate({ delays: FAST });
    // more memory than a fake node has: kube-scheduler refuses it
    const res = await virtwork(
      ["run", "-n", ns.name, "--workloads", "cpu,memory", "--set", "cpu.memory=2Ti", "--timeout", "4"],
      {
        kubeconfig: ns.kubeconfig(),
      },
    );
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    const errors = errorLines(res.stderr);
    assert.equal(errors.length, 1, res.stderr);
    assert.match(
      errors[0] ?? "",
      /timed out after 4s: 1 of 2 VMs are not ready, slowest: virtwork-cpu-0 \(Scheduling: .*PodScheduled=False \(Unschedulable: 0\/\d+ nodes are available: \d+ Insufficient memory.*raise --timeout \(e\.g\. --timeout 60s\).*see virtwork status -n /,
    );
  });

  test("a DataVolume on storage class 'missing' fails the run at once, saying so", async () => {
    const ns = await newNamespace({ prefix: "nosc" });
    await ns.simulate({ delays: FAST });
    const res = await virtwork(
      ["run", "-n", ns.name, "--workloads", "disk", "--storage-class", "missing", "--timeout", "300"],
      { kubeconfig: ns.kubeconfig() },
    );
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.ok(res.ms < 15_000, `failed after ${res.ms} ms`);
    const errors = errorLines(res.stderr);
    assert.equal(errors.length, 1, res.stderr);
    assert.match(
      errors[0] ?? "",
      /VM virtwork-disk-0: DataVolume \S+ (cannot bind: .*storageclass\.storage\.k8s\.io "missing" not found|asks for StorageClass "missing", which does not exist)/,
    );
  });
});

describe("the limited identity", () => {
  test("where it has no rights: a 403 message naming the verb and resource, nothing created", async () => {
    const ns = await newNamespace({ prefix: "forbid" });
    const res = await virtwork(["run", "-n", ns.name, "--timeout", "30"], {
      kubeconfig: ns.kubeconfig("limited"),
    });
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    const errors = errorLines(res.stderr);
    assert.equal(errors.length, 1, res.stderr);
    assert.match(
      errors[0] ?? "",
      new RegExp(
        `forbidden \\(403\\): the current identity may not create (services|secrets|virtualmachines\\.kubevirt\\.io) in namespace "${ns.name}"`,
      ),
    );
    const all = await objectsIn(ns.name);
    for (const [kind, map] of Object.entries(all)) assert.equal(map.size, 0, `${kind}: ${names(map)}`);
  });

  test("in the namespace it is granted (it may not read the namespace itself): deploys and shows status", async () => {
    const ns = await newNamespace({ prefix: "granted", limitedAccess: true });
    await ns.simulate({ delays: FAST });
    const kubeconfig = ns.kubeconfig("limited");
    const res = await virtwork(["run", "-n", ns.name, "--workloads", "cpu,network", "-o", "json"], {
      kubeconfig,
    });
    assert.equal(res.code, 0, res.stderr);
    const summary = parseJson<{ outcome: string; runId: string }>(res);
    assert.equal(summary.outcome, "ready");
    const status = await virtwork(["status", "-n", ns.name, "-o", "json"], { kubeconfig });
    assert.equal(status.code, 0, status.stderr);
    assert.equal(parseJson<unknown[]>(status).length, 3);
  });
});

describe("missing CRDs (a private second cluster)", () => {
  const dir = mkdtempSync(join(tmpdir(), "virtwork-nocrd-"));
  const env = { VIRTWORK_CLUSTER_DIR: dir };
  let kubeconfig: string;
  let ext: k8s.ApiextensionsV1Api;
  let core: k8s.CoreV1Api;

  before(async () => {
    await startCluster(); // warm build cache
    const up = await run("bash", [join(CLUSTER_SCRIPTS, "cluster-up.sh")], { env, timeoutMs: 5 * 60_000 });
    assert.equal(up.code, 0, up.stderr);
    const state = JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8")) as { adminKubeconfig: string };
    kubeconfig = state.adminKubeconfig;
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  after(async () => {
    await run("bash", [join(CLUSTER_SCRIPTS, "cluster-down.sh")], { env, timeoutMs: 120_000 });
    rmSync(dir, { recursive: true, force: true });
  });

  async function removeCrd(name: string, group: string, version: string, plural: string) {
    await ext.deleteCustomResourceDefinition({ name });
    const cluster = new k8s.KubeConfig();
    cluster.loadFromFile(kubeconfig);
    const apis = cluster.makeApiClient(k8s.ApisApi);
    await waitFor(
      async () => {
        const groups = await apis.getAPIVersions();
        const served = groups.groups
          .find((g) => g.name === group)
          ?.versions.some((v) => v.version === version);
        if (!served) return true;
        // The group may stay while another of its CRDs remains: look at the resource list.
        const custom = cluster.makeApiClient(k8s.CustomObjectsApi);
        try {
          await custom.listClusterCustomObject({ group, version, plural });
          return false;
        } catch (err) {
          return err instanceof k8s.ApiException && err.code === 404;
        }
      },
      { timeoutMs: 30_000, what: `${name} no longer served` },
    );
  }

  async function assertNothingCreated(namespace: string) {
    await assert.rejects(core.readNamespace({ name: namespace }), (err: unknown) => {
      return err instanceof k8s.ApiException && err.code === 404;
    });
    const sel = "app.kubernetes.io/managed-by=virtwork";
    assert.equal((await core.listSecretForAllNamespaces({ labelSelector: sel })).items.length, 0);
    assert.equal((await core.listServiceForAllNamespaces({ labelSelector: sel })).items.length, 0);
    assert.equal((await core.listNamespace({ labelSelector: sel })).items.length, 0);
  }

  test("without CDI: a plan with data volumes stops at preflight with one error naming CDI", async () => {
    await removeCrd("datavolumes.cdi.kubevirt.io", "cdi.kubevirt.io", "v1beta1", "datavolumes");
    const ns = freshNamespaceName("nocdi");
    const res = await virtwork(["run", "-n", ns, "--workloads", "disk,cpu"], { kubeconfig });
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    const errors = errorLines(res.stderr);
    assert.equal(errors.length, 1, res.stderr);
    assert.match(errors[0] ?? "", /datavolumes\.cdi\.kubevirt\.io.*Containerized Data Importer \(CDI\)/);
    await assertNothingCreated(ns);
  });

  test("without KubeVirt: one error naming OpenShift Virtualization, nothing created", async () => {
    await removeCrd("virtualmachines.kubevirt.io", "kubevirt.io", "v1", "virtualmachines");
    const ns = freshNamespaceName("nokv");
    const res = await virtwork(["run", "-n", ns], { kubeconfig });
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    const errors = errorLines(res.stderr);
    assert.equal(errors.length, 1, res.stderr);
    assert.match(errors[0] ?? "", /virtualmachines\.kubevirt\.io.*OpenShift Virtualization \(KubeVirt\)/);
    await assertNothingCreated(ns);
    // --dry-run=server checks the same way before sending anything.
    const dry = await virtwork(["run", "-n", ns, "--dry-run=server"], { kubeconfig });
    assert.equal(dry.code, 1, dry.stderr);
    assert.match(errorLines(dry.stderr)[0] ?? "", /OpenShift Virtualization \(KubeVirt\)/);
  });
});
