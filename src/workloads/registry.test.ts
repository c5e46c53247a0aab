import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { dns1123LabelProblem } from "../manifests/names.ts";
import { BUILTIN_WORKLOADS, createRegistry, defaultWorkloadNames } from "./registry.ts";
import {
  assertBashSyntax,
  buildWorkload,
  parseUnit,
  parseUserData,
  unitValue,
  unitValues,
} from "./testing.ts";
import { guestOf } from "./types.ts";

// Nothing here lists the built-ins: adding one is its file plus its line in registry.ts.
describe("workload registry", () => {
  it("holds every built-in once, each in its own file, in the order of BUILTIN_WORKLOADS", () => {
    const names = BUILTIN_WORKLOADS.map((w) => w.name);
    const registry = createRegistry();
    assert.equal(registry.size, names.length, "no two workloads share a name");
    assert.deepEqual([...registry.keys()], names);
    for (const w of BUILTIN_WORKLOADS) assert.equal(registry.get(w.name), w);
    const files = readdirSync(new URL("./builtin/", import.meta.url))
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
      .map((f) => f.replace(/\.ts$/, ""));
    assert.deepEqual([...files].sort(), [...names].sort(), "src/workloads/builtin/<name>.ts per workload");
  });

  it("selects every workload that is not opt-in by default; the chaos ones are opt-in", () => {
    const names = BUILTIN_WORKLOADS.map((w) => w.name);
    assert.deepEqual(
      defaultWorkloadNames(createRegistry()),
      BUILTIN_WORKLOADS.filter((w) => !w.optIn).map((w) => w.name),
    );
    for (const w of BUILTIN_WORKLOADS) assert.equal(w.optIn, w.name.startsWith("chaos-"), w.name);
    assert.ok(names.some((n) => !n.startsWith("chaos-")) && names.some((n) => n.startsWith("chaos-")));
    // Opt-in workloads come last, so "all" deploys the default ones first.
    const firstOptIn = BUILTIN_WORKLOADS.findIndex((w) => w.optIn);
    assert.ok(BUILTIN_WORKLOADS.slice(firstOptIn).every((w) => w.optIn));
  });

  it("builds a registry from any list", () => {
    const [first, second] = BUILTIN_WORKLOADS;
    assert.ok(first && second);
    const registry = createRegistry([second, first]);
    assert.deepEqual([...registry.keys()], [second.name, first.name]);
    assert.deepEqual(defaultWorkloadNames(createRegistry([])), []);
  });

  it("param schemas: cpu has 2 params and disk 6; names unique; defaults pass their own rules", () => {
    const registry = createRegistry();
    assert.equal(registry.get("cpu")?.params.length, 2);
    assert.equal(registry.get("disk")?.params.length, 6);
    for (const w of BUILTIN_WORKLOADS) {
      const names = w.params.map((p) => p.name);
      assert.equal(new Set(names).size, names.length, `${w.name} param names are unique`);
      assert.ok(w.description.length > 0, `${w.name} has a description`);
      for (const p of w.params) {
        assert.match(p.name, /^[a-z][a-z0-9-]*$/, `${w.name}.${p.name} is kebab-case`);
        assert.ok(p.description.length > 0, `${w.name}.${p.name} has a description`);
        assert.equal(p.check?.(p.default), undefined, `${w.name}.${p.name} default passes its check`);
      }
    }
  });

  it("workload names make valid VM names", () => {
    for (const w of BUILTIN_WORKLOADS) {
      assert.equal(dns1123LabelProblem(`virtwork-${w.name}-client-9999`), undefined, w.name);
    }
  });
});

describe("every built-in workload", () => {
  for (const workload of BUILTIN_WORKLOADS) {
    it(`${workload.name}: scripts 0755 that parse, units 0644 that restart or stay, runcmd ends with reload + enable`, () => {
      const output = buildWorkload(workload);
      assert.ok(output.roles.length >= 1);
      for (const r of output.roles) {
        const { role } = r;
        const label = `${workload.name}${role ? `/${role}` : ""}`;
        const doc = parseUserData(guestOf(r, 0));
        const units = doc.write_files.filter((f) => f.path.startsWith("/etc/systemd/system/"));
        // One unit per long-running daemon: the tps server runs netserver and HTTP as two.
        assert.ok(units.length >= 1, `${label}: at least one unit`);
        const unitNames = units.map((u) => u.path.slice("/etc/systemd/system/".length));
        for (const unitFile of units) {
          const unitName = unitFile.path.slice("/etc/systemd/system/".length);
          assert.match(unitName, new RegExp(`^virtwork-${workload.name}(-[a-z0-9]+)?\\.service$`), label);
          assert.equal(unitFile.permissions, "0644");
          const unit = parseUnit(unitFile.content);
          assert.equal(unitValue(unit, "Install", "WantedBy"), "multi-user.target");
          const type = unitValue(unit, "Service", "Type");
          if (type === "oneshot") assert.equal(unitValue(unit, "Service", "RemainAfterExit"), "yes");
          else assert.deepEqual(unitValues(unit, "Service", "Restart"), ["always"], label);
        }
        if (units.length === 1) assert.equal(unitNames[0], `virtwork-${workload.name}.service`);

        for (const file of doc.write_files) {
          assert.equal(typeof file.permissions, "string", `${file.path}: permissions stay a string`);
          if (file.path.startsWith("/usr/local/bin/")) {
            assert.equal(file.permissions, "0755", file.path);
            assertBashSyntax(file.content, `${label} ${file.path}`);
          } else {
            assert.equal(file.permissions, "0644", file.path);
          }
        }

        const tail = doc.runcmd.slice(-(units.length + 1));
        assert.deepEqual(tail, [
          ["systemctl", "daemon-reload"],
          ...unitNames.map((u) => ["systemctl", "enable", "--now", u]),
        ]);
        for (const cmd of doc.runcmd) {
          assert.ok(Array.isArray(cmd) && cmd.every((a) => typeof a === "string"), `${label}: argv lists`);
        }
        // Setup scripts run before the unit is enabled, and they exist in write_files.
        for (const cmd of doc.runcmd.slice(0, -(units.length + 1))) {
          const program = String(cmd[0]);
          if (program.startsWith("/usr/local/bin/")) {
            assert.ok(
              doc.write_files.some((f) => f.path === program),
              `${label}: ${program} is written`,
            );
          }
        }
      }
      for (const d of output.dataDisks) {
        assert.equal(d.dataVolumeBase, `virtwork-${workload.name}-data`);
        const first = output.roles[0];
        assert.ok(first);
        const doc = parseUserData(guestOf(first, 0));
        assert.ok(doc.packages.includes("xfsprogs"), `${workload.name}: xfsprogs for its data disk`);
        const scripts = doc.write_files.map((f) => f.content).join("\n");
        assert.ok(
          scripts.includes(`/dev/disk/by-id/virtio-${d.serial}`),
          `${workload.name}: finds the disk by serial`,
        );
      }
    });
  }
});
