import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { loadConfig } from "../config/load.ts";
import { dns1123LabelProblem } from "../manifests/names.ts";
import type { KubeObject, Secret, Service, VirtualMachine } from "../manifests/objects.ts";
import { createRegistry } from "../workloads/registry.ts";
import { plan } from "./plan.ts";

const registry = createRegistry();
const RUN_ID = "00000000-0000-4000-8000-0000000000a1";

function planFor(flags: Record<string, unknown>) {
  const { config } = loadConfig({ flags, env: {}, registry });
  return plan(config, registry, { runId: RUN_ID });
}
const ofKind = <K extends KubeObject["kind"]>(objects: KubeObject[], kind: K) =>
  objects.filter((o): o is Extract<KubeObject, { kind: K }> => o.kind === kind);

/** The server host a client's user-data names: iperf3 -c <host>, or SERVER="<host>" in the tps script. */
function targetOf(secret: Secret): string {
  const doc = parse(secret.stringData?.userdata ?? "", { version: "1.1" }) as {
    write_files: { path: string; content: string }[];
  };
  const text = doc.write_files.map((f) => f.content).join("\n");
  const host = /iperf3 -c (\S+)/.exec(text)?.[1] ?? /^SERVER="([^"]+)"$/m.exec(text)?.[1];
  assert.ok(host, `${secret.metadata?.name} names a server`);
  return host;
}

/** The names the cluster DNS serves for VMs behind a headless Service, per Service. */
function dnsNames(objects: KubeObject[], namespace: string): Map<string, string> {
  const headless = new Set(
    ofKind(objects, "Service")
      .filter((s) => s.spec?.clusterIP === "None")
      .map((s) => s.metadata?.name),
  );
  const names = new Map<string, string>();
  for (const vm of ofKind(objects, "VirtualMachine")) {
    const spec = vm.spec?.template.spec;
    if (spec?.hostname && spec.subdomain && headless.has(spec.subdomain)) {
      names.set(`${spec.hostname}.${spec.subdomain}.${namespace}.svc.cluster.local`, vm.metadata?.name ?? "");
    }
  }
  return names;
}

const cases = [
  { workload: "network", service: "virtwork-iperf3-server" },
  { workload: "tps", service: "virtwork-tps-server" },
];

describe("each client has its own server", () => {
  for (const { workload, service } of cases) {
    it(`${workload} --vm-count 3: client i reaches server i, and only it`, () => {
      const p = planFor({ workloads: [workload], "vm-count": "3", namespace: "perf-lab" });
      const svc = ofKind(p.objects, "Service") as Service[];
      assert.equal(svc.length, 1);
      assert.equal(svc[0]?.metadata?.name, service);
      // Headless: no virtual IP picking a random server; names published before readiness.
      assert.equal(svc[0]?.spec?.clusterIP, "None");
      assert.equal(svc[0]?.spec?.publishNotReadyAddresses, true);
      assert.deepEqual(svc[0]?.spec?.selector, {
        "app.kubernetes.io/component": workload,
        "virtwork/role": "server",
      });

      const names = dnsNames(p.objects, "perf-lab");
      assert.equal(names.size, 3, "every server has its own DNS name");
      const secrets = new Map(ofKind(p.objects, "Secret").map((s) => [s.metadata?.name, s]));
      const servedBy: string[] = [];
      for (let i = 0; i < 3; i++) {
        const secret = secrets.get(`virtwork-${workload}-client-${i}-cloudinit`);
        assert.ok(secret);
        servedBy.push(names.get(targetOf(secret)) ?? `unresolved ${targetOf(secret)}`);
      }
      assert.deepEqual(
        servedBy,
        [0, 1, 2].map((i) => `virtwork-${workload}-server-${i}`),
      );
    });
  }

  it("only server VMs get hostname/subdomain; every name is valid DNS-1123", () => {
    const p = planFor({ workloads: ["all"], "vm-count": "2" });
    for (const vm of ofKind(p.objects, "VirtualMachine") as VirtualMachine[]) {
      const name = vm.metadata?.name ?? "";
      const spec = vm.spec?.template.spec;
      if (/^virtwork-(network|tps)-server-\d+$/.test(name)) {
        assert.equal(spec?.hostname, name);
        assert.match(spec?.subdomain ?? "", /^virtwork-(iperf3|tps)-server$/);
        assert.equal(dns1123LabelProblem(spec?.hostname ?? ""), undefined);
        assert.equal(dns1123LabelProblem(spec?.subdomain ?? ""), undefined);
      } else {
        assert.equal(spec?.hostname, undefined, name);
        assert.equal(spec?.subdomain, undefined, name);
      }
    }
    for (const host of dnsNames(p.objects, p.namespace).keys()) {
      assert.ok(host.length <= 253, host);
      for (const label of host.split(".")) assert.equal(dns1123LabelProblem(label), undefined, host);
    }
  });

  it("the largest vm-count still names each pair with valid labels", () => {
    const p = planFor({ workloads: ["network"], "vm-count": "10000" });
    const names = dnsNames(p.objects, p.namespace);
    assert.equal(names.size, 10000);
    const last = ofKind(p.objects, "Secret").find(
      (s) => s.metadata?.name === "virtwork-network-client-9999-cloudinit",
    );
    assert.ok(last);
    assert.equal(names.get(targetOf(last)), "virtwork-network-server-9999");
  });
});
