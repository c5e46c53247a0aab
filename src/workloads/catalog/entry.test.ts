import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CatalogEntry, type EntryFiles, parseEntry } from "./entry.ts";
import { CatalogError } from "./problems.ts";
import { unit } from "./testing.ts";

const BUILTINS = new Set(["cpu", "network"]);

function entry(files: Partial<EntryFiles> & { units?: Record<string, string> }): CatalogEntry {
  return parseEntry({ name: "demo", dir: "cat/demo", units: {}, ...files }, BUILTINS);
}

function rejected(files: Partial<EntryFiles>, builtins = BUILTINS): string {
  try {
    parseEntry({ name: "demo", dir: "cat/demo", units: {}, ...files }, builtins);
  } catch (err) {
    assert.ok(err instanceof CatalogError, `expected CatalogError, got ${err}`);
    assert.ok(!err.message.includes("\n"), "one line");
    return err.message;
  }
  assert.fail("expected the entry to be rejected");
}

describe("catalog entry", () => {
  it("refuses unit files named like the guest's own units", () => {
    for (const name of [
      "sshd.service",
      "ssh.service",
      "systemd-resolved.service",
      "getty.service",
      "serial-getty.service",
      "NetworkManager.service",
      "dbus.service",
      "cloud-init.service",
      "cloud-final.service",
      "qemu-guest-agent.service",
      "chronyd.service",
      "crond.service",
      "virtwork-cpu.service",
      // issue 32: accepted before; Debian ships them (derived from its Contents index)
      "nftables.service",
      "apparmor.service",
      "networkd-dispatcher.service",
      "unattended-upgrades.service",
    ]) {
      assert.match(
        rejected({ units: { [name]: unit() } }),
        new RegExp(
          `cat/demo/${name.replace(".", "\\.")}: "${name.replace(".", "\\.")}" is the name of a unit the guest OS ships`,
        ),
      );
    }
    for (const name of [
      "server.service",
      "bench.service",
      "workload.service",
      "my-getty-test.service",
      "client.service",
      "nft-load.service",
    ]) {
      assert.equal(entry({ units: { [name]: unit() } }).units[0]?.name, name);
    }
  });

  it("a list or dict placeholder must be double-quoted in the unit", () => {
    const manifest = "params:\n  - {key: items, type: list, default: a;b}\n";
    assert.match(
      rejected({ manifest, units: { "w.service": unit("/bin/bash -c 'echo {{items}}'") } }),
      /cat\/demo\/w\.service:5: placeholder \{\{items\}\} of a list\/dict param must be written in double quotes/,
    );
    assert.ok(entry({ manifest, units: { "w.service": unit(`/bin/bash -c 'echo "{{items}}"'`) } }));
  });

  it("without a manifest: single-role, no params, every .service file sorted", () => {
    const e = entry({ units: { "b.service": unit(), "a.service": unit() } });
    assert.deepEqual(
      e.units.map((u) => u.name),
      ["a.service", "b.service"],
    );
    assert.equal(e.manifest.roles.length, 0);
    assert.deepEqual(e.warnings, []);
  });

  for (const [what, name, expected] of [
    ["upper case", "Redis", /must be a DNS-1123 label/],
    ["underscore", "my_load", /must be a DNS-1123 label/],
    ["a leading dash", "-x", /must be a DNS-1123 label/],
    ["a path", "../etc", /must be a DNS-1123 label/],
    ["a built-in name", "cpu", /"cpu" is a built-in workload; rename the directory/],
    ["the reserved word all", "all", /"all" is reserved/],
    ["too long for virtwork-<name>", "a".repeat(60), /must be at most 63 characters/],
  ] as const) {
    it(`rejects an entry name with ${what}`, () => {
      assert.match(
        (() => {
          try {
            parseEntry({ name, dir: `cat/${name}`, units: { "a.service": unit() } }, BUILTINS);
          } catch (err) {
            return (err as Error).message;
          }
          return "";
        })(),
        expected,
      );
    });
  }

  it("rejects an entry without .service files, naming the directory", () => {
    assert.match(rejected({}), /^catalog entry "demo": cat\/demo: no \.service files; add at least one/);
  });

  it("rejects a declared role without its unit file, naming the manifest line and field", () => {
    const message = rejected({
      manifest: "roles:\n  - name: server\n  - name: client\n",
      units: { "server.service": unit() },
    });
    assert.match(
      message,
      /cat\/demo\/workload\.yaml:3: roles\[1\]\.name: role "client" has no unit file; create cat\/demo\/client\.service/,
    );
  });

  it("rejects empty, CRLF, [Service]-less and ExecStart-less unit files", () => {
    assert.match(rejected({ units: { "a.service": "  \n" } }), /cat\/demo\/a\.service: is empty/);
    assert.match(rejected({ units: { "a.service": unit().replace(/\n/g, "\r\n") } }), /CRLF/);
    assert.match(
      rejected({ units: { "a.service": "[Unit]\nDescription=x\n" } }),
      /has no \[Service\] section/,
    );
    assert.match(rejected({ units: { "a.service": "[Service]\nType=simple\n" } }), /has no ExecStart= line/);
    assert.match(rejected({ units: { "a.service": `${unit()}\u0007` } }), /control characters/);
  });

  it("rejects unit file names with odd characters", () => {
    assert.match(rejected({ units: { "a b.service": unit() } }), /cat\/demo\/a b\.service: unit file names/);
  });

  it("rejects an undeclared placeholder with file, line and a suggestion", () => {
    const message = rejected({
      manifest: "params: [{key: threads, type: int, default: 4}]\n",
      units: { "w.service": unit("/bin/run --threads={{thread}}") },
    });
    assert.match(
      message,
      /cat\/demo\/w\.service:5: placeholder \{\{thread\}\} is not a declared param \(did you mean "threads"\?\); declare it under params/,
    );
  });

  it("warns about unused params, unused unit files and units without [Install]", () => {
    const e = entry({
      manifest: "params: [{key: a, default: x}, {key: b, default: y}]\nroles: [{name: server}]\n",
      units: {
        "server.service": "[Service]\nExecStart=/bin/x {{a}}\n",
        "extra.service": unit("/bin/y {{b}}"),
      },
    });
    assert.deepEqual(e.warnings, [
      "server.service has no [Install] section (add WantedBy=multi-user.target to start it at boot)",
      "extra.service matches no declared role and is not installed",
      'param "b" is not used in any unit file',
    ]);
  });

  it("placeholders in unit files that a multi-role entry does not install are not checked", () => {
    const e = entry({
      manifest: "roles: [{name: server}]\n",
      units: { "server.service": unit(), "x.service": unit("{{nope}}") },
    });
    assert.deepEqual([...e.roleUnits.keys()], ["server"]);
  });

  it("rejects role and storage names that make object names longer than 63 characters", () => {
    const longRole = "r".repeat(52);
    assert.match(
      rejected({ manifest: `roles: [{name: ${longRole}}]\n`, units: { [`${longRole}.service`]: unit() } }),
      /roles\[0\]\.name: VM names such as "virtwork-demo-r+-0" would be longer than 63/,
    );
    assert.match(
      rejected({
        manifest: `storage: [{name: ${"d".repeat(50)}, serial: s, mount: /mnt/m}]\n`,
        units: { "a.service": unit() },
      }),
      /storage\[0\]\.name: DataVolume names such as "d+-virtwork-demo-0" would be longer than 63/,
    );
  });

  it("a manifest error stops before unit files are checked", () => {
    const message = rejected({ manifest: "roles: [{name: a, vm-count: x}]\n", units: {} });
    assert.match(message, /roles\[0\]\.vm-count/);
    assert.doesNotMatch(message, /no \.service files/);
  });
});
