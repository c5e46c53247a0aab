import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { virtwork } from "../cli.ts";
import {
  assertExecScriptsClean,
  assertUnitsVerify,
  execStart,
  loadShipped,
  planShipped,
  unitText,
} from "./shipped.ts";

describe("catalog/http-bench (nginx server, ApacheBench clients)", () => {
  it("loads without warnings; server and client roles; no disk", () => {
    const w = loadShipped("http-bench");
    assert.deepEqual(w.entry.warnings, []);
    assert.deepEqual(
      w.entry.manifest.roles.map((r) => r.name),
      ["server", "client"],
    );
    assert.deepEqual(w.entry.manifest.storage, []);
  });

  it("one nginx server; --vm-count scales the clients", () => {
    const { vms } = planShipped("http-bench", { "vm-count": "2" });
    assert.deepEqual(
      vms.map((v) => v.metadata?.name),
      ["virtwork-http-bench-server-0", "virtwork-http-bench-client-0", "virtwork-http-bench-client-1"],
    );
    assert.equal(vms[0]?.spec?.dataVolumeTemplates, undefined);
  });

  it("the Service on port 80 selects this entry's servers; clients fetch from its name", () => {
    const { services, userData } = planShipped("http-bench");
    const svc = services[0];
    assert.equal(svc?.metadata?.name, "virtwork-http-bench");
    assert.deepEqual(svc?.spec?.selector, {
      "app.kubernetes.io/component": "http-bench",
      "virtwork/role": "server",
    });
    assert.deepEqual(svc?.spec?.ports, [{ name: "http", port: 80, protocol: "TCP" }]);
    const client = unitText(userData("virtwork-http-bench-client-0"), "client.service");
    assert.match(execStart(client), /http:\/\/virtwork-http-bench\/virtwork\/payload\.bin/);
  });

  it("server serves a generated payload of payload-kb; units and scripts are clean", () => {
    const { userData } = planShipped("http-bench", {
      params: ["http-bench.payload-kb=512,http-bench.concurrency=4"],
    });
    const server = userData("virtwork-http-bench-server-0");
    assert.deepEqual(server.packages, ["nginx", "httpd-tools"]);
    const serverUnit = unitText(server, "server.service");
    assert.match(serverUnit, /head -c 512K \/dev\/urandom/);
    assert.equal(execStart(serverUnit), "/usr/sbin/nginx -g 'daemon off;'");
    assertExecScriptsClean(serverUnit);
    assertUnitsVerify({ packages: [], runcmd: [], files: server.write_files as never });
    const client = userData("virtwork-http-bench-client-0");
    const clientUnit = unitText(client, "client.service");
    assert.match(execStart(clientUnit), /ab -k -q -c 4 -t 60 /);
    assertExecScriptsClean(clientUnit);
    assertUnitsVerify({ packages: [], runcmd: [], files: client.write_files as never });
  });

  it("deploys with --from-catalog next to a built-in", () => {
    const r = virtwork([
      "run",
      "--dry-run",
      "--catalog-dir",
      "catalog",
      "-w",
      "cpu",
      "--from-catalog",
      "http-bench",
    ]);
    assert.equal(r.status, 0, r.stderr);
    for (const vm of ["virtwork-cpu-0", "virtwork-http-bench-server-0", "virtwork-http-bench-client-0"])
      assert.match(r.stdout, new RegExp(`name: ${vm}\\n`));
  });
});
