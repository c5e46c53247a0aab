import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertAccepted,
  assertBashSyntax,
  assertCommonUnit,
  assertRejected,
  assertRestarts,
  assertRuncmd,
  buildWorkload,
  fileAt,
  roleUserData,
  shellVar,
  unitAt,
  unitValue,
} from "../testing.ts";
import { fileSizeBytes, tps } from "./tps.ts";

const UNIT_PATH = "/etc/systemd/system/virtwork-tps.service";
const HTTP_UNIT_PATH = "/etc/systemd/system/virtwork-tps-http.service";
const NETSERVER_UNIT_PATH = "/etc/systemd/system/virtwork-tps-netserver.service";
const SERVER_SCRIPT = "/usr/local/bin/virtwork-tps-server.sh";
const CLIENT_SCRIPT = "/usr/local/bin/virtwork-tps-client.sh";

function scripts(options: { params?: Record<string, string>; namespace?: string } = {}, index = 0) {
  const output = buildWorkload(tps, options);
  return {
    server: fileAt(roleUserData(output, "server", index), SERVER_SCRIPT).content,
    client: fileAt(roleUserData(output, "client", index), CLIENT_SCRIPT).content,
  };
}

/** Bytes the server writes into its test file (`head -c <bytes> /dev/urandom`). */
function serverFileBytes(server: string): number {
  const match = /^head -c (\d+) \/dev\/urandom > /m.exec(server);
  assert.ok(match, "server creates the test file with head -c");
  return Number(match[1]);
}

describe("tps workload", () => {
  it("declares its params with types and defaults", () => {
    assert.equal(tps.name, "tps");
    assert.equal(tps.optIn, false);
    assert.deepEqual(
      tps.params.map((p) => [p.name, p.type, p.default]),
      [
        ["file-size", "string", "10M"],
        ["iterations", "int", "30"],
        ["duration", "int", "60"],
      ],
    );
  });

  it("plans a server role then a client role, behind a headless Service with three ports", () => {
    const output = buildWorkload(tps);
    assert.deepEqual(
      output.roles.map((r) => r.role),
      ["server", "client"],
    );
    assert.deepEqual(output.dataDisks, []);
    assert.deepEqual(output.service, {
      name: "virtwork-tps-server",
      selectorRole: "server",
      perVmDns: true,
      ports: [
        { name: "netperf-ctrl", port: 12865 },
        { name: "netperf-data", port: 12866 },
        { name: "http-data", port: 8080 },
      ],
    });
  });

  it("renders the server: netperf and python3; netserver and HTTP as two units, so each is seen", () => {
    const doc = roleUserData(buildWorkload(tps), "server");
    assert.deepEqual(doc.packages, ["netperf", "python3"]);
    assert.deepEqual(
      doc.write_files.map((f) => [f.path, f.permissions]),
      [
        [SERVER_SCRIPT, "0755"],
        [HTTP_UNIT_PATH, "0644"],
        [NETSERVER_UNIT_PATH, "0644"],
      ],
    );
    const http = unitAt(doc, HTTP_UNIT_PATH);
    assertCommonUnit(http, "Virtwork TPS server: HTTP test file");
    assert.equal(unitValue(http, "Service", "ExecStart"), SERVER_SCRIPT);
    assertRestarts(http, "10");
    const netserver = unitAt(doc, NETSERVER_UNIT_PATH);
    assertCommonUnit(netserver, "Virtwork TPS server: netperf netserver");
    // -D: netserver stays in the foreground, so it is the unit's main process.
    assert.equal(unitValue(netserver, "Service", "ExecStart"), "/usr/bin/netserver -D -p 12865");
    assertRestarts(netserver, "10");
    assert.deepEqual(doc.runcmd, [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "virtwork-tps-http.service"],
      ["systemctl", "enable", "--now", "virtwork-tps-netserver.service"],
    ]);
    const script = fileAt(doc, SERVER_SCRIPT).content;
    assertBashSyntax(script, SERVER_SCRIPT);
    // The HTTP server replaces the script (exec): no background job the unit cannot see.
    assert.match(script, /^exec python3 -m http\.server 8080 --directory \/srv\/virtwork$/m);
    assert.doesNotMatch(script, /&$|\bwait\b|netserver/m);
  });

  it("renders the client: netperf and curl, one script and exactly one unit restarting after 30s", () => {
    const doc = roleUserData(buildWorkload(tps), "client");
    assert.deepEqual(doc.packages, ["netperf", "curl"]);
    assert.deepEqual(
      doc.write_files.map((f) => [f.path, f.permissions]),
      [
        [CLIENT_SCRIPT, "0755"],
        [UNIT_PATH, "0644"],
      ],
    );
    const unit = unitAt(doc, UNIT_PATH);
    assertCommonUnit(unit, "Virtwork TPS client (netperf TCP_RR + HTTP file transfer)");
    assert.equal(unitValue(unit, "Service", "ExecStart"), CLIENT_SCRIPT);
    assertRestarts(unit, "30");
    assertRuncmd(doc, "virtwork-tps.service");
    const script = fileAt(doc, CLIENT_SCRIPT).content;
    assertBashSyntax(script, CLIENT_SCRIPT);
    assert.match(script, /-t TCP_RR/);
    assert.match(script, /-P ,12866/);
    assert.doesNotMatch(script, /UDP_RR/);
    const waitLoop = script.indexOf('until curl -s -o /dev/null "http://$SERVER:8080/"');
    assert.ok(waitLoop > 0, "the client waits for the server");
    assert.ok(waitLoop < script.indexOf("netperf -H"), "before the first netperf round");
    // The cycles repeat inside the script: the unit never exits after a cycle, so the signal
    // has no 30 s gap and the readiness probe never sees it "activating (auto-restart)".
    const forever = script.indexOf("\nwhile true; do\n");
    assert.ok(forever > waitLoop, "after the wait, an endless loop of cycles");
    assert.ok(forever < script.indexOf("netperf -H"), "holds the TCP_RR phase");
    assert.ok(forever < script.indexOf("/testfile"), "and the HTTP phase");
    assert.match(script, /\n {2}echo "TPS cycle \$cycle complete"\n {2}sleep 10\ndone\n$/);
    assert.doesNotMatch(script, /^\s*exit\b/m);
  });

  it("uses the defaults when no params are given", () => {
    const { server, client } = scripts();
    assert.equal(
      shellVar(client, "SERVER"),
      "virtwork-tps-server-0.virtwork-tps-server.virtwork.svc.cluster.local",
    );
    assert.equal(shellVar(client, "ITERATIONS"), "30");
    assert.equal(shellVar(client, "DURATION"), "60");
    assert.equal(shellVar(client, "MSG_SIZE"), "64");
    assert.equal(shellVar(client, "FILE_SIZE_BYTES"), String(10 * 1024 * 1024));
    assert.equal(serverFileBytes(server), 10 * 1024 * 1024);
  });

  it("points the client at its server in a custom namespace", () => {
    const { client } = scripts({ namespace: "load-test" });
    assert.equal(
      shellVar(client, "SERVER"),
      "virtwork-tps-server-0.virtwork-tps-server.load-test.svc.cluster.local",
    );
  });

  it("client i talks to server i alone: netserver's data port is never shared", () => {
    const servers = [0, 1, 5].map((i) => shellVar(scripts({}, i).client, "SERVER"));
    assert.deepEqual(servers, [
      "virtwork-tps-server-0.virtwork-tps-server.virtwork.svc.cluster.local",
      "virtwork-tps-server-1.virtwork-tps-server.virtwork.svc.cluster.local",
      "virtwork-tps-server-5.virtwork-tps-server.virtwork.svc.cluster.local",
    ]);
    assert.equal(new Set(servers).size, servers.length);
  });

  it("puts every overridden param in its place", () => {
    const { server, client } = scripts({ params: { "file-size": "2G", iterations: "5", duration: "15" } });
    assert.equal(shellVar(client, "ITERATIONS"), "5");
    assert.equal(shellVar(client, "DURATION"), "15");
    assert.equal(shellVar(client, "FILE_SIZE_BYTES"), String(2 * 1024 ** 3));
    assert.equal(serverFileBytes(server), 2 * 1024 ** 3);
  });

  it("mixes overridden params with defaults", () => {
    const { server, client } = scripts({ params: { iterations: "3" } });
    assert.equal(shellVar(client, "ITERATIONS"), "3");
    assert.equal(shellVar(client, "DURATION"), "60");
    assert.equal(serverFileBytes(server), 10 * 1024 * 1024);
  });

  it("sizes the server file and the client's throughput maths from the same number, K suffix included", () => {
    for (const [size, bytes] of [
      ["512K", 512 * 1024],
      ["1k", 1024],
      ["3m", 3 * 1024 * 1024],
      ["1G", 1024 ** 3],
    ] as const) {
      assert.equal(fileSizeBytes(size), bytes, size);
      const { server, client } = scripts({ params: { "file-size": size } });
      assert.equal(serverFileBytes(server), bytes, `server file for ${size}`);
      assert.equal(Number(shellVar(client, "FILE_SIZE_BYTES")), bytes, `client bytes for ${size}`);
    }
  });

  it("rejects file sizes that are not a positive integer with K, M or G", () => {
    for (const bad of ["10", "10MiB", "1.5M", "0M", "-1M", "M", "10 M", "10T"]) {
      assert.throws(() => fileSizeBytes(bad), /invalid file-size/, bad);
      assertRejected(tps, "file-size", bad);
    }
  });

  it("validates its other params", () => {
    assertAccepted(tps, "file-size", "64k");
    for (const bad of ["0", "-3", "many"]) assertRejected(tps, "iterations", bad);
    for (const bad of ["0", "1m"]) assertRejected(tps, "duration", bad);
  });
});
