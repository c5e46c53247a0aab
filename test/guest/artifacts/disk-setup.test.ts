/**
 * The shared disk-setup script, run for real on a loop device: it formats once, mounts,
 * writes the stable by-id fstab line, and a second boot neither reformats nor duplicates.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { GuestFile } from "../../../src/cloudinit/guest-config.ts";
import { DISK_SETUP_PATH } from "../../../src/workloads/disk-setup.ts";
import { render } from "./cases.ts";
import { attachLoop, type LoopDisk, loopSupport, sandbox } from "./sandbox.ts";
import { needTools, tempDir } from "./tools.ts";

const skip = needTools("mkfs.xfs", "losetup", "unshare", "blkid", "mountpoint") || loopSupport();

const CASES: { workload: string; params: Record<string, string>; serial: string; mount: string }[] = [
  { workload: "disk", params: {}, serial: "virtwork-disk", mount: "/mnt/data" },
  {
    workload: "chaos-disk",
    params: { mount: "/mnt/a.b_c-d/e" },
    serial: "virtwork-chdisk",
    mount: "/mnt/a.b_c-d/e",
  },
];

for (const c of CASES) {
  describe(`${c.workload}: disk-setup on a loop device (mount ${c.mount})`, { skip }, () => {
    const dir = tempDir("disk-setup");
    let loop: LoopDisk;
    let file: GuestFile;
    const fstabLine = `/dev/disk/by-id/virtio-${c.serial} ${c.mount} xfs defaults,nofail 0 0`;

    before(() => {
      loop = attachLoop(dir.path);
      const [role] = render(c.workload, c.params);
      const found = role?.guest.files.find((f) => f.path === DISK_SETUP_PATH);
      assert.ok(found, "the workload writes the disk-setup script");
      file = found;
      const runcmd = (role?.guest.runcmd ?? []).map((c) => c.join(" "));
      const setupAt = runcmd.indexOf(DISK_SETUP_PATH);
      const enableAt = runcmd.findIndex((c) => /^systemctl enable --now virtwork-/.test(c));
      assert.ok(
        setupAt >= 0 && enableAt > setupAt,
        `runcmd runs the setup before enabling the workload: ${JSON.stringify(runcmd)}`,
      );
    });
    after(() => {
      loop?.detach();
      dir.remove();
    });

    const boot = (extra = "") =>
      sandbox(
        { dir: dir.path, disk: { device: loop.device, serial: c.serial }, files: [file] },
        `${extra}
${DISK_SETUP_PATH} || { echo "setup failed: $?"; exit 1; }
echo "fs=$(blkid -p -o value -s TYPE ${loop.device}) uuid=$(blkid -p -o value -s UUID ${loop.device})"
findmnt -n -o SOURCE,FSTYPE --target ${c.mount} | sed 's/^/mounted=/'
touch ${c.mount}/written-on-first-boot 2>/dev/null || true
ls ${c.mount} | sed 's/^/file=/'`,
      );

    let firstUuid = "";
    test("first boot: formats the blank disk as XFS, mounts it, writes one by-id fstab line", async () => {
      const r = await boot();
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const fs = /fs=(\S+) uuid=(\S+)/.exec(r.stdout);
      assert.equal(fs?.[1], "xfs", r.stdout);
      firstUuid = fs?.[2] ?? "";
      assert.match(r.stdout, new RegExp(`mounted=${loop.device} xfs`));
      const fstab = readFileSync(`${dir.path}/fstab`, "utf8").trim().split("\n");
      assert.deepEqual(fstab, [fstabLine]);
    });

    test("second boot: mounts via the fstab line, keeps the data, adds nothing", async () => {
      // As systemd-fstab-generator would: mount what fstab says, then cloud-init's runcmd
      // runs the script again (per-instance modules may rerun, e.g. on a new instance id).
      const r = await boot(`mount -a --fstab /etc/fstab || { echo "fstab mount failed"; exit 1; }`);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`uuid=${firstUuid}\\b`), "not reformatted");
      assert.match(r.stdout, /file=written-on-first-boot/, "data from the first boot is still there");
      assert.doesNotMatch(r.stdout + r.stderr, /meta-data=/, "mkfs.xfs did not run");
      assert.deepEqual(readFileSync(`${dir.path}/fstab`, "utf8").trim().split("\n"), [fstabLine]);
    });

    test("a rerun while mounted is a no-op", async () => {
      const r = await boot(`${DISK_SETUP_PATH} >/dev/null`);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`uuid=${firstUuid}\\b`));
      assert.deepEqual(readFileSync(`${dir.path}/fstab`, "utf8").trim().split("\n"), [fstabLine]);
    });
  });
}

describe("disk-setup without its disk", { skip }, () => {
  test("fails with a clear message when the by-id link never appears", { timeout: 60_000 }, async () => {
    const dir = tempDir("disk-setup-missing");
    try {
      const [role] = render("disk", {});
      const file = role?.guest.files.find((f) => f.path === DISK_SETUP_PATH);
      assert.ok(file);
      // Shorten the 30 s wait: sleep is a no-op here.
      const r = await sandbox(
        { dir: dir.path, files: [file] },
        `sleep() { :; }; export -f sleep; ${DISK_SETUP_PATH}; echo "exit=$?"`,
      );
      assert.match(r.stdout, /exit=1/);
      assert.match(r.stderr, /disk \/dev\/disk\/by-id\/virtio-virtwork-disk not found after 30s/);
      assert.equal(readFileSync(`${dir.path}/fstab`, "utf8"), "");
    } finally {
      dir.remove();
    }
  });
});
