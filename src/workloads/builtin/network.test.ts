import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertAccepted,
  assertCommonUnit,
  assertRejected,
  assertRestarts,
  assertRuncmd,
  buildWorkload,
  roleUserData,
  unitAt,
  unitValue,
} from "../testing.ts";
import { network } from "./network.ts";

const UNIT_PATH = "/etc/systemd/system/virtwork-network.service";

function clientArgs(
  options: { params?: Record<string, string>; namespace?: string } = {},
  index = 0,
): string[] {
  const doc = roleUserData(buildWorkload(network, options), "client", index);
  const execStart = unitValue(unitAt(doc, UNIT_PATH), "Service", "ExecStart");
  const match = /^\/bin\/bash -c 'while true; do (.+); sleep 10; done'$/.exec(execStart);
  assert.ok(match, `client loops iperf3: ${execStart}`);
  return (match[1] ?? "").split(" ");
}

const after = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];

describe("network workload", () => {
  it("declares its params with types and defaults", () => {
    assert.equal(network.name, "network");
    assert.equal(network.optIn, false);
    assert.deepEqual(
      network.params.map((p) => [p.name, p.type, p.default]),
      [
        ["parallel-streams", "int", "4"],
        ["test-duration", "int", "60"],
      ],
    );
  });

  it("plans a server role then a client role", () => {
    const output = buildWorkload(network);
    assert.deepEqual(
      output.roles.map((r) => r.role),
      ["server", "client"],
    );
    assert.deepEqual(output.dataDisks, []);
  });

  it("names each server through a headless Service scoped to the server role", () => {
    assert.deepEqual(buildWorkload(network).service, {
      name: "virtwork-iperf3-server",
      selectorRole: "server",
      perVmDns: true,
      ports: [{ name: "iperf3", port: 5201 }],
    });
  });

  it("client i talks to server i alone (iperf3 serves one test at a time)", () => {
    const servers = [0, 1, 2, 7].map((i) => after(clientArgs({}, i), "-c"));
    assert.deepEqual(servers, [
      "virtwork-network-server-0.virtwork-iperf3-server.virtwork.svc.cluster.local",
      "virtwork-network-server-1.virtwork-iperf3-server.virtwork.svc.cluster.local",
      "virtwork-network-server-2.virtwork-iperf3-server.virtwork.svc.cluster.local",
      "virtwork-network-server-7.virtwork-iperf3-server.virtwork.svc.cluster.local",
    ]);
    // Every server runs the same config: one iperf3 -s.
    assert.equal(typeof buildWorkload(network).roles[0]?.guest, "object");
  });

  it("renders the server: iperf3 -s under systemd", () => {
    const doc = roleUserData(buildWorkload(network), "server");
    assert.deepEqual(doc.packages, ["iperf3"]);
    assert.deepEqual(
      doc.write_files.map((f) => [f.path, f.permissions]),
      [[UNIT_PATH, "0644"]],
    );
    const unit = unitAt(doc, UNIT_PATH);
    assertCommonUnit(unit, "Virtwork iperf3 server");
    assert.equal(unitValue(unit, "Service", "ExecStart"), "/usr/bin/iperf3 -s");
    assert.equal(unitValue(unit, "Service", "Type"), "simple");
    assertRestarts(unit);
    assertRuncmd(doc, "virtwork-network.service");
  });

  it("renders the client with the defaults when no params are given", () => {
    const doc = roleUserData(buildWorkload(network), "client");
    assert.deepEqual(doc.packages, ["iperf3"]);
    const unit = unitAt(doc, UNIT_PATH);
    assertCommonUnit(unit, "Virtwork iperf3 client");
    assertRestarts(unit);
    assertRuncmd(doc, "virtwork-network.service");
    assert.deepEqual(clientArgs(), [
      "/usr/bin/iperf3",
      "-c",
      "virtwork-network-server-0.virtwork-iperf3-server.virtwork.svc.cluster.local",
      "-t",
      "60",
      "-P",
      "4",
      "--bidir",
    ]);
  });

  it("points the client at its server in a custom namespace", () => {
    const argv = clientArgs({ namespace: "perf-lab" });
    assert.equal(
      after(argv, "-c"),
      "virtwork-network-server-0.virtwork-iperf3-server.perf-lab.svc.cluster.local",
    );
    assert.equal(buildWorkload(network, { namespace: "perf-lab" }).service?.name, "virtwork-iperf3-server");
  });

  it("puts every overridden param in its place", () => {
    const argv = clientArgs({ params: { "parallel-streams": "16", "test-duration": "30" } });
    assert.equal(after(argv, "-P"), "16");
    assert.equal(after(argv, "-t"), "30");
  });

  it("mixes overridden params with defaults", () => {
    const argv = clientArgs({ params: { "test-duration": "15" } });
    assert.equal(after(argv, "-P"), "4");
    assert.equal(after(argv, "-t"), "15");
  });

  it("validates its params", () => {
    assertAccepted(network, "parallel-streams", "128");
    for (const bad of ["0", "129", "four"]) assertRejected(network, "parallel-streams", bad);
    for (const bad of ["0", "-1", "60s"]) assertRejected(network, "test-duration", bad);
  });
});
