import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { UsageError } from "../../errors.ts";
import { createRegistry } from "../../workloads/registry.ts";
import type { VmRow } from "../status.ts";
import { verifySettings } from "./settings.ts";
import { evaluate, planVerify } from "./targets.ts";

const registry = createRegistry();
const row = (name: string, workload: string, role = "", phase = "Running"): VmRow => ({
  runId: "r1",
  namespace: "perf",
  name,
  workload,
  role,
  phase,
  node: "n",
  ip: "",
  createdAt: "",
});

describe("planVerify", () => {
  const vms = [
    row("virtwork-cpu-0", "cpu"),
    row("virtwork-cpu-1", "cpu"),
    row("virtwork-disk-0", "disk"),
    row("virtwork-network-server-0", "network", "server"),
    row("virtwork-x-0", "not-a-workload"),
  ];
  const plan = planVerify("perf", vms, (n) => registry.get(n));

  it("asks one query per workload and signal, over the VMs' namespace and name", () => {
    const cpu = plan.queries.find((q) => q.workload === "cpu");
    assert.deepEqual(cpu?.vms, ["virtwork-cpu-0", "virtwork-cpu-1"]);
    assert.equal(
      cpu?.promql,
      'sum by (namespace, name) (rate(kubevirt_vmi_vcpu_seconds_total{namespace="perf",name=~"virtwork-cpu-0|virtwork-cpu-1"}[2m]))',
    );
    const disk = plan.queries.filter((q) => q.workload === "disk").map((q) => q.promql);
    assert.deepEqual(disk, [
      'sum by (namespace, name) (rate(kubevirt_vmi_storage_write_traffic_bytes_total{namespace="perf",name="virtwork-disk-0",drive="datadisk"}[2m]))',
      'sum by (namespace, name) (rate(kubevirt_vmi_storage_iops_write_total{namespace="perf",name="virtwork-disk-0",drive="datadisk"}[2m]))',
    ]);
    assert.equal(plan.checks.length, 2 + 2 + 2);
  });

  it("lists VMs whose workload declares no signals instead of checking them", () => {
    assert.deepEqual(
      plan.unchecked.map((v) => v.name),
      ["virtwork-x-0"],
    );
  });

  it("a VM at or above the threshold passes; below, without a sample, or NaN fails", () => {
    const measured = new Map([
      [
        "cpu\0vcpu",
        new Map([
          ["virtwork-cpu-0", 1.9],
          ["virtwork-cpu-1", 0.02],
        ]),
      ],
      ["disk\0disk-write", new Map([["virtwork-disk-0", Number.NaN]])],
      ["network\0net-tx", new Map([["virtwork-network-server-0", 1024 * 1024]])],
    ]);
    const byKey = new Map(evaluate(plan, measured).map((r) => [`${r.vm}/${r.signal}`, r]));
    assert.equal(byKey.get("virtwork-cpu-0/vcpu")?.ok, true);
    assert.equal(byKey.get("virtwork-cpu-0/vcpu")?.shown, "1.90 cores");
    assert.equal(byKey.get("virtwork-cpu-1/vcpu")?.ok, false);
    assert.equal(byKey.get("virtwork-disk-0/disk-write")?.ok, false);
    assert.equal(byKey.get("virtwork-disk-0/disk-write")?.shown, "no data");
    assert.equal(byKey.get("virtwork-disk-0/disk-write-iops")?.ok, false);
    assert.equal(byKey.get("virtwork-network-server-0/net-tx")?.ok, true, "exactly the threshold passes");
    assert.equal(byKey.get("virtwork-network-server-0/net-tx")?.expected, "≥ 1.0 MiB/s");
  });

  it("a role-restricted catalog signal is checked only on that role's VMs", () => {
    const w = {
      ...(registry.get("cpu") as NonNullable<ReturnType<typeof registry.get>>),
      name: "web",
      signals: [
        {
          name: "tx",
          description: "",
          kind: "rate" as const,
          metric: "kubevirt_vmi_network_transmit_bytes_total",
          min: 1,
          unit: "bytes/s" as const,
          roles: ["server"],
        },
      ],
    };
    const p = planVerify(
      "ns",
      [row("web-server-0", "web", "server"), row("web-client-0", "web", "client")],
      () => w,
    );
    assert.deepEqual(
      p.checks.map((c) => c.vm.name),
      ["web-server-0"],
    );
    assert.deepEqual(
      p.unchecked.map((v) => v.name),
      ["web-client-0"],
    );
  });

  it("names the phase of a VM that is not running", () => {
    const p = planVerify("ns", [row("virtwork-cpu-0", "cpu", "", "Scheduling")], (n) => registry.get(n));
    assert.equal(evaluate(p, new Map())[0]?.shown, "no data (Scheduling)");
  });
});

/** A self-signed test CA (openssl req -x509 -newkey ec), parsed by X509Certificate. */
const TEST_CA = [
  "-----BEGIN CERTIFICATE-----",
  "MIIBjTCCATOgAwIBAgIUVVSabEaRSwWWFZ6gzu8NrnhZOVkwCgYIKoZIzj0EAwIw",
  "GzEZMBcGA1UEAwwQdmlydHdvcmstdGVzdC1jYTAgFw0yNjEyMDcxMTU3MjVaGA8y",
  "MTI2MTExMzExNTcyNVowGzEZMBcGA1UEAwwQdmlydHdvcmstdGVzdC1jYTBZMBMG",
  "ByqGSM49AgEGCCqGSM49AwEHA0IABD6Kxoz5WotU4VLx9FW+R5HNRpXI+fgi7gir",
  "XyNSAb3m1V3xchKTNrDWcNNepQGd6BMqEWO1243afPFPXd952ICjUzBRMB0GA1Ud",
  "DgQWBBRguD0dbMUab7me5JHcTmlO6+7WPDAfBgNVHSMEGDAWgBRguD0dbMUab7me",
  "5JHcTmlO6+7WPDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIAPw",
  "GPxx8XZ6dESLneB6XUp0WMeZJrhlK9INHikwYzSMAiEAm6V8EmU5JIn5YJfxb6yV",
  "ZwhVg6vv/Knj4NNlZIo+5FM=",
  "-----END CERTIFICATE-----",
  "",
].join("\n");

describe("verifySettings", () => {
  const base = { env: {}, timeoutSeconds: 600 };
  it("takes flags over VIRTWORK_PROMETHEUS_* and reads the CA file", () => {
    const dir = mkdtempSync(join(tmpdir(), "vw-ca-"));
    const ca = join(dir, "ca.pem");
    writeFileSync(ca, TEST_CA);
    const s = verifySettings({
      ...base,
      flags: { "prometheus-url": "https://thanos.example.com", "prometheus-ca": ca, wait: true },
      env: { VIRTWORK_PROMETHEUS_URL: "http://ignored:9090", VIRTWORK_PROMETHEUS_TOKEN: "sha256~abc" },
    });
    assert.equal(s.prometheusUrl, "https://thanos.example.com");
    assert.equal(s.prometheusToken, "sha256~abc");
    assert.match(s.prometheusCa ?? "", /BEGIN CERTIFICATE/);
    assert.equal(s.wait, true);
  });

  const BAD: [string, Record<string, unknown>, RegExp][] = [
    [
      "a non-http URL",
      { "prometheus-url": "ftp://x" },
      /^--prometheus-url: "ftp:\/\/x" is not an http\(s\) base URL/,
    ],
    ["a URL with a query", { "prometheus-url": "http://p:9090/?a=b" }, /not an http\(s\) base URL/],
    [
      "a token with a newline",
      { "prometheus-url": "http://p", "prometheus-token": "a\nb" },
      /--prometheus-token: the token must be one word/,
    ],
    [
      "a CA file that does not exist",
      { "prometheus-url": "http://p", "prometheus-ca": "/nonexistent/ca.pem" },
      /--prometheus-ca: cannot read \/nonexistent\/ca.pem: no such file/,
    ],
    [
      "a token without a URL",
      { "prometheus-token": "abc" },
      /^--prometheus-token goes with --prometheus-url/,
    ],
    [
      "a CA file that is not a certificate",
      { "prometheus-url": "http://p", "prometheus-ca": "/proc/self/status" },
      /--prometheus-ca: \/proc\/self\/status holds no PEM certificate/,
    ],
    ["a run id that is no label value", { "run-id": "a b" }, /--run-id: "a b" is not a run id/],
  ];
  for (const [what, flags, expected] of BAD) {
    it(`rejects ${what} with a usage error`, () => {
      assert.throws(
        () => verifySettings({ ...base, flags }),
        (err: unknown) => {
          assert.ok(err instanceof UsageError);
          assert.match(err.message, expected);
          return true;
        },
      );
    });
  }
});
