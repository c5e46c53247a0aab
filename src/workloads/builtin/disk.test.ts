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
  type ParsedUnit,
  parseFioJob,
  roleUserData,
  shellVar,
  unitAt,
  unitValue,
} from "../testing.ts";
import { disk } from "./disk.ts";

const UNIT_PATH = "/etc/systemd/system/virtwork-disk.service";
const SETUP = "/usr/local/bin/virtwork-disk-setup.sh";
const MIXED = "/etc/fio/mixed-rw.fio";
const SEQ = "/etc/fio/seq-write.fio";

function jobs(params?: Record<string, string>): { mixed: ParsedUnit; seq: ParsedUnit } {
  const doc = roleUserData(buildWorkload(disk, params ? { params } : {}));
  return { mixed: parseFioJob(fileAt(doc, MIXED).content), seq: parseFioJob(fileAt(doc, SEQ).content) };
}

function job(file: ParsedUnit, section: string): Record<string, string> {
  return Object.fromEntries(file.get(section) ?? []);
}

const GLOBAL = { ioengine: "libaio", direct: "1", directory: "/mnt/data", size: "1G" };

describe("disk workload", () => {
  it("declares its six params with types and defaults", () => {
    assert.equal(disk.name, "disk");
    assert.equal(disk.optIn, false);
    assert.deepEqual(
      disk.params.map((p) => [p.name, p.type, p.default]),
      [
        ["block-size-rw", "string", "4k"],
        ["block-size-seq", "string", "128k"],
        ["rwmixread", "int", "70"],
        ["numjobs", "int", "4"],
        ["ioengine", "string", "libaio"],
        ["runtime", "int", "300"],
      ],
    );
  });

  it("installs fio and xfsprogs and writes setup script, fio jobs and unit in order", () => {
    const doc = roleUserData(buildWorkload(disk));
    assert.deepEqual(doc.packages, ["fio", "xfsprogs"]);
    assert.deepEqual(
      doc.write_files.map((f) => [f.path, f.permissions]),
      [
        [SETUP, "0755"],
        [MIXED, "0644"],
        [SEQ, "0644"],
        [UNIT_PATH, "0644"],
      ],
    );
    assertBashSyntax(fileAt(doc, SETUP).content, SETUP);
  });

  it("runs the setup script before daemon-reload and enable --now", () => {
    assertRuncmd(roleUserData(buildWorkload(disk)), "virtwork-disk.service", [[SETUP]]);
  });

  it("renders the unit", () => {
    const unit = unitAt(roleUserData(buildWorkload(disk)), UNIT_PATH);
    assertCommonUnit(unit, "Virtwork disk I/O workload");
    assert.equal(unitValue(unit, "Unit", "After"), "network.target local-fs.target");
    assert.equal(unitValue(unit, "Unit", "RequiresMountsFor"), "/mnt/data");
    assert.equal(unitValue(unit, "Service", "Type"), "simple");
    assert.equal(
      unitValue(unit, "Service", "ExecStart"),
      "/bin/bash -c 'while true; do fio /etc/fio/mixed-rw.fio; sleep 10; fio /etc/fio/seq-write.fio; sleep 10; done'",
    );
    assertRestarts(unit);
  });

  it("sets up the data disk by serial and writes a by-id fstab line", () => {
    const output = buildWorkload(disk);
    assert.deepEqual(output.dataDisks, [
      { name: "datadisk", serial: "virtwork-disk", dataVolumeBase: "virtwork-disk-data" },
    ]);
    assert.equal(output.service, undefined);
    const script = fileAt(roleUserData(output), SETUP).content;
    assert.equal(shellVar(script, "DISK"), "/dev/disk/by-id/virtio-virtwork-disk");
    assert.equal(shellVar(script, "MOUNT_POINT"), "/mnt/data");
    const fstabLines = script.split("\n").filter((l) => l.includes(">> /etc/fstab"));
    assert.deepEqual(
      fstabLines.map((l) => l.trim()),
      ['echo "$DISK $MOUNT_POINT xfs defaults,nofail 0 0" >> /etc/fstab'],
    );
    assert.match(script, /mkfs\.xfs "\$DEVICE"/);
  });

  it("uses the defaults when no params are given", () => {
    const { mixed, seq } = jobs();
    assert.deepEqual(job(mixed, "global"), GLOBAL);
    assert.deepEqual(job(mixed, "mixed-rw"), {
      rw: "randrw",
      rwmixread: "70",
      bs: "4k",
      numjobs: "4",
      runtime: "300",
      time_based: "",
      group_reporting: "",
    });
    assert.deepEqual(job(seq, "global"), GLOBAL);
    assert.deepEqual(job(seq, "seq-write"), {
      rw: "write",
      bs: "128k",
      numjobs: "2",
      runtime: "300",
      time_based: "",
      group_reporting: "",
    });
  });

  it("puts every overridden param in its place", () => {
    const { mixed, seq } = jobs({
      "block-size-rw": "8k",
      "block-size-seq": "1M",
      rwmixread: "50",
      numjobs: "8",
      runtime: "120",
    });
    assert.deepEqual(
      { ...job(mixed, "mixed-rw") },
      {
        rw: "randrw",
        rwmixread: "50",
        bs: "8k",
        numjobs: "8",
        runtime: "120",
        time_based: "",
        group_reporting: "",
      },
    );
    const seqJob = job(seq, "seq-write");
    assert.equal(seqJob.bs, "1M");
    assert.equal(seqJob.runtime, "120");
    assert.equal(seqJob.numjobs, "2", "the sequential job keeps 2 jobs");
  });

  it("mixes overridden params with defaults", () => {
    const { mixed, seq } = jobs({ rwmixread: "90", "block-size-seq": "64k" });
    const m = job(mixed, "mixed-rw");
    assert.equal(m.rwmixread, "90");
    assert.equal(m.bs, "4k");
    assert.equal(m.numjobs, "4");
    assert.equal(m.runtime, "300");
    assert.equal(job(seq, "seq-write").bs, "64k");
  });

  it("validates its params", () => {
    for (const ok of ["4k", "128K", "1M", "512"]) assertAccepted(disk, "block-size-rw", ok);
    for (const bad of ["4kb", "k", "4 k", "1G", "-4k"]) assertRejected(disk, "block-size-rw", bad);
    assertRejected(disk, "block-size-seq", "128KiB");
    for (const bad of ["101", "-1", "70.5"]) assertRejected(disk, "rwmixread", bad);
    for (const bad of ["0", "257"]) assertRejected(disk, "numjobs", bad);
    for (const bad of ["0", "5m"]) assertRejected(disk, "runtime", bad);
    for (const ok of ["libaio", "io_uring", "psync"]) assertAccepted(disk, "ioengine", ok);
    for (const bad of ["bogus", "LIBAIO", "libaio;reboot"]) assertRejected(disk, "ioengine", bad);
  });

  it("writes the chosen ioengine into both fio jobs", () => {
    const { mixed, seq } = jobs({ ioengine: "io_uring" });
    for (const file of [mixed, seq]) assert.equal(job(file, "global").ioengine, "io_uring");
  });
});
