/** `systemd-analyze verify` accepts every unit virtwork writes into a guest. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { allRendered } from "./cases.ts";
import { buildGuestRoot } from "./guest-root.ts";
import { mapLimit, needTools, run, tempDir } from "./tools.ts";

const rendered = allRendered();
// Units do not depend on SSH; one guest per distinct set of files.
const guests = [
  ...new Map(
    rendered.map((r) => [JSON.stringify(r.guest.files.map((f) => [f.path, f.content])), r] as const),
  ).values(),
];

describe("systemd-analyze verify accepts every unit", { skip: needTools("systemd-analyze") }, () => {
  const dir = tempDir("systemd");
  after(() => dir.remove());

  test(`units of ${guests.length} distinct guests, each in a guest root`, async () => {
    const failures: string[] = [];
    let checked = 0;
    await mapLimit([...guests.entries()], 4, async ([i, r]) => {
      const root = join(dir.path, `root-${i}`);
      const { units } = buildGuestRoot(root, r.guest);
      assert.ok(units.length > 0, `${r.id}: writes at least one unit`);
      for (const unit of units) {
        const res = await run("systemd-analyze", ["verify", `--root=${root}`, unit]);
        checked++;
        // verify exits 0 on some warnings (unknown keys, bad values): both streams must be empty.
        if (res.code !== 0 || res.stderr.trim() || res.stdout.trim()) {
          failures.push(`${r.id}: ${unit.slice(root.length)}: exit ${res.code}\n${res.stdout}${res.stderr}`);
        }
      }
    });
    assert.deepEqual(failures, []);
    assert.ok(checked >= guests.length);
  });

  test("the check is not vacuous: an unknown key, a bad Type and a missing command are reported", async () => {
    const root = join(dir.path, "bad");
    const { units } = buildGuestRoot(root, {
      packages: [],
      runcmd: [],
      files: [
        {
          path: "/etc/systemd/system/bad.service",
          permissions: "0644",
          content: "[Unit]\nDescription=x\n\n[Service]\nType=simpel\nBogus=1\nExecStop=/bin/true\n",
        },
      ],
    });
    const unit = units[0] ?? "";
    const res = await run("systemd-analyze", ["verify", `--root=${root}`, unit]);
    assert.match(res.stderr, /Unknown key 'Bogus'/);
    assert.match(res.stderr, /Failed to parse service type/);
    const missing = join(dir.path, "missing");
    const m = buildGuestRoot(missing, { packages: [], runcmd: [], files: [] });
    assert.equal(m.units.length, 0);
    const path = join(missing, "etc/systemd/system/missing.service");
    writeFileSync(path, "[Service]\nExecStart=/usr/bin/not-installed\n");
    const r2 = await run("systemd-analyze", ["verify", `--root=${missing}`, path]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /not-installed is not executable/);
  });
});
