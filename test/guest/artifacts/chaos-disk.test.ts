/**
 * chaos-disk for real: the disk is set up by its own script on a loop device, then the fill
 * script fills it to the target percentage, releases it, and fills it again.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { GuestFile } from "../../../src/cloudinit/guest-config.ts";
import { DISK_SETUP_PATH } from "../../../src/workloads/disk-setup.ts";
import { render } from "./cases.ts";
import { attachLoop, type LoopDisk, loopSupport, sandbox } from "./sandbox.ts";
import { needTools, tempDir, unitValues } from "./tools.ts";

const skip = needTools("mkfs.xfs", "losetup", "unshare", "fallocate", "df") || loopSupport();
const FILL_SCRIPT = "/usr/local/bin/chaos-disk.sh";
const MOUNT = "/mnt/data";

describe("chaos-disk fills and releases a real filesystem", { skip }, () => {
  const dir = tempDir("chaos-disk");
  let loop: LoopDisk;
  let files: GuestFile[];
  let unit = "";

  before(() => {
    loop = attachLoop(dir.path);
    const [role] = render("chaos-disk", { "fill-percent": "60", "fill-sleep": "3", "release-sleep": "3" });
    files = role?.guest.files ?? [];
    unit = files.find((f) => f.path.endsWith(".service"))?.content ?? "";
  });
  after(() => {
    loop?.detach();
    dir.remove();
  });

  test("usage reaches the target while filled, drops back when released, and cycles", {
    timeout: 60_000,
  }, async () => {
    // Samples usage every 0.5 s for 10 s while the script runs (fill 3 s, release 3 s), then
    // stops it like systemd would (SIGTERM) and runs the unit's ExecStopPost cleanup.
    const stopPost = unitValues(unit, "Service", "ExecStopPost")[0] ?? "";
    assert.match(stopPost, /^\/bin\/rm -f \/mnt\/data\/chaos-disk-fill$/);
    const r = await sandbox(
      { dir: dir.path, disk: { device: loop.device, serial: "virtwork-chdisk" }, files },
      `${DISK_SETUP_PATH} >/dev/null || exit 1
${FILL_SCRIPT} > ${dir.path}/fill.log 2>&1 &
pid=$!
for _ in $(seq 1 20); do
  sleep 0.5
  # A sample counts only when the fill file's presence did not change around the df reading.
  before=$([ -e ${MOUNT}/chaos-disk-fill ] && echo filled || echo released)
  used=$(df --output=pcent ${MOUNT} | tail -n 1 | tr -dc 0-9)
  after=$([ -e ${MOUNT}/chaos-disk-fill ] && echo filled || echo released)
  [ "$before" = "$after" ] && echo "sample $after $used"
done
kill -TERM "$pid"; wait "$pid"
${stopPost}
[ -e ${MOUNT}/chaos-disk-fill ] && echo "after-stop fill-file-present" || echo "after-stop clean"
echo "log:"; cat ${dir.path}/fill.log`,
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const samples = [...r.stdout.matchAll(/sample (filled|released) (\d+)/g)].map((m) => ({
      filled: m[1] === "filled",
      used: Number(m[2]),
    }));
    const filled = samples.filter((s) => s.filled);
    const released = samples.filter((s) => !s.filled);
    assert.ok(filled.length >= 2, r.stdout);
    assert.ok(released.length >= 2, r.stdout);
    for (const s of filled) assert.ok(s.used >= 59 && s.used <= 62, `filled usage ${s.used}%\n${r.stdout}`);
    for (const s of released) assert.ok(s.used < 20, `released usage ${s.used}%\n${r.stdout}`);
    // filled -> released -> filled again: the loop really cycles.
    const transitions = samples.filter((s, i) => i > 0 && s.filled !== samples[i - 1]?.filled).length;
    assert.ok(transitions >= 2, `expected at least two fill/release transitions\n${r.stdout}`);
    assert.match(r.stdout, /after-stop clean/);
    assert.match(r.stdout, /Filling \/mnt\/data with \d+K to reach 60%/);
  });
});
