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
import { chaosDisk } from "./chaos-disk.ts";

const UNIT_PATH = "/etc/systemd/system/virtwork-chaos-disk.service";
const SETUP = "/usr/local/bin/virtwork-disk-setup.sh";
const SCRIPT = "/usr/local/bin/chaos-disk.sh";

function render(params?: Record<string, string>) {
  const doc = roleUserData(buildWorkload(chaosDisk, params ? { params } : {}));
  return {
    doc,
    setup: fileAt(doc, SETUP).content,
    fill: fileAt(doc, SCRIPT).content,
    unit: unitAt(doc, UNIT_PATH),
  };
}

/** The values the fill script runs with, read from its variable assignments. */
function fillSettings(fill: string) {
  return {
    // MOUNT="${CHAOS_MOUNT:-<mount>}": the param is the default of an override variable.
    mount: shellVar(fill, "MOUNT")?.replace(/^\$\{CHAOS_MOUNT:-(.*)\}$/, "$1"),
    fillPercent: shellVar(fill, "FILL_PERCENT"),
    fillSleep: shellVar(fill, "FILL_SLEEP"),
    releaseSleep: shellVar(fill, "RELEASE_SLEEP"),
  };
}

describe("chaos-disk workload", () => {
  it("is opt-in and declares its params with types and defaults", () => {
    assert.equal(chaosDisk.name, "chaos-disk");
    assert.equal(chaosDisk.optIn, true);
    assert.deepEqual(
      chaosDisk.params.map((p) => [p.name, p.type, p.default]),
      [
        ["mount", "string", "/mnt/data"],
        ["fill-percent", "int", "90"],
        ["fill-sleep", "int", "60"],
        ["release-sleep", "int", "30"],
      ],
    );
  });

  it("installs xfsprogs and writes the disk setup, the fill script and the unit", () => {
    const { doc, setup, fill } = render();
    assert.deepEqual(doc.packages, ["xfsprogs"]);
    assert.deepEqual(
      doc.write_files.map((f) => [f.path, f.permissions]),
      [
        [SETUP, "0755"],
        [SCRIPT, "0755"],
        [UNIT_PATH, "0644"],
      ],
    );
    assertBashSyntax(setup, SETUP);
    assertBashSyntax(fill, SCRIPT);
  });

  it("runs the disk setup before daemon-reload and enable --now", () => {
    assertRuncmd(render().doc, "virtwork-chaos-disk.service", [[SETUP]]);
  });

  it("has its own data disk serial and DataVolume base, and no Service", () => {
    const output = buildWorkload(chaosDisk);
    assert.deepEqual(output.dataDisks, [
      { name: "datadisk", serial: "virtwork-chdisk", dataVolumeBase: "virtwork-chaos-disk-data" },
    ]);
    assert.equal(output.service, undefined);
    assert.equal(output.roles.length, 1);
  });

  it("renders the unit", () => {
    const { unit } = render();
    assertCommonUnit(unit, "Virtwork chaos-disk fill/release workload");
    assert.equal(unitValue(unit, "Unit", "After"), "network.target local-fs.target");
    assert.equal(unitValue(unit, "Service", "ExecStart"), SCRIPT);
    assert.equal(unitValue(unit, "Service", "Type"), "simple");
    assertRestarts(unit);
  });

  it("uses the defaults when no params are given", () => {
    const { setup, fill, unit } = render();
    assert.equal(shellVar(setup, "DISK"), "/dev/disk/by-id/virtio-virtwork-chdisk");
    assert.equal(shellVar(setup, "MOUNT_POINT"), "/mnt/data");
    assert.deepEqual(
      setup
        .split("\n")
        .filter((l) => l.includes(">> /etc/fstab"))
        .map((l) => l.trim()),
      ['echo "$DISK $MOUNT_POINT xfs defaults,nofail 0 0" >> /etc/fstab'],
    );
    assert.deepEqual(fillSettings(fill), {
      mount: "/mnt/data",
      fillPercent: "90",
      fillSleep: "60",
      releaseSleep: "30",
    });
    assert.equal(unitValue(unit, "Unit", "RequiresMountsFor"), "/mnt/data");
    assert.equal(unitValue(unit, "Service", "ExecStopPost"), "/bin/rm -f /mnt/data/chaos-disk-fill");
  });

  it("puts every overridden param in its place, the mount point everywhere", () => {
    const { setup, fill, unit } = render({
      mount: "/mnt/chaos",
      "fill-percent": "75",
      "fill-sleep": "5",
      "release-sleep": "7",
    });
    assert.equal(shellVar(setup, "MOUNT_POINT"), "/mnt/chaos");
    assert.deepEqual(fillSettings(fill), {
      mount: "/mnt/chaos",
      fillPercent: "75",
      fillSleep: "5",
      releaseSleep: "7",
    });
    assert.equal(unitValue(unit, "Unit", "RequiresMountsFor"), "/mnt/chaos");
    assert.equal(unitValue(unit, "Service", "ExecStopPost"), "/bin/rm -f /mnt/chaos/chaos-disk-fill");
    assert.doesNotMatch(setup + fill, /\/mnt\/data/);
  });

  it("mixes overridden params with defaults", () => {
    const { setup, fill } = render({ "fill-percent": "50" });
    assert.equal(shellVar(setup, "MOUNT_POINT"), "/mnt/data");
    assert.deepEqual(fillSettings(fill), {
      mount: "/mnt/data",
      fillPercent: "50",
      fillSleep: "60",
      releaseSleep: "30",
    });
  });

  it("validates its params", () => {
    assertAccepted(chaosDisk, "mount", "/srv/chaos_1.d");
    assertAccepted(chaosDisk, "mount", "/data");
    // Never a system directory: the disk is mounted there and filled.
    for (const bad of [
      "/",
      "/etc",
      "/var/lib/chaos",
      "/mnt/../usr",
      "/mntx",
      "mnt/data",
      "/mnt/my disk",
      "/mnt/$(reboot)",
      "/mnt/a;b",
      "/mnt/'x'",
    ]) {
      assertRejected(chaosDisk, "mount", bad);
    }
    assertAccepted(chaosDisk, "fill-percent", "100");
    for (const bad of ["0", "101", "90%"]) assertRejected(chaosDisk, "fill-percent", bad);
    for (const bad of ["0", "-1", "1.5"]) assertRejected(chaosDisk, "fill-sleep", bad);
    assertRejected(chaosDisk, "release-sleep", "0");
  });
});
