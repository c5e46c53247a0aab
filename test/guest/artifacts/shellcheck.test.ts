/**
 * `shellcheck` reports nothing on every shell script virtwork generates: written scripts,
 * `bash -c` programs in unit ExecStart lines, and `bash -c` runcmd entries.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { allRendered } from "./cases.ts";
import { isShellScript, mapLimit, needTools, parseUnit, run } from "./tools.ts";

interface Script {
  where: string;
  text: string;
}

/** The program of `/bin/bash -c '…'` in a unit line (systemd strips the single quotes). */
export function bashDashC(execLine: string): string | undefined {
  const m = /^[-@:+!]*\/(?:usr\/)?bin\/(?:ba)?sh -c '([^']*)'$/.exec(execLine);
  return m?.[1];
}

function collect(): Script[] {
  const scripts = new Map<string, Script>();
  const add = (where: string, text: string) => {
    if (!scripts.has(text)) scripts.set(text, { where, text });
  };
  for (const r of allRendered()) {
    for (const f of r.guest.files) {
      if (isShellScript(f.content)) add(`${r.id} ${f.path}`, f.content);
      if (!f.path.endsWith(".service")) continue;
      for (const e of parseUnit(f.content)) {
        if (!e.key.startsWith("Exec")) continue;
        const body = bashDashC(e.value);
        if (body !== undefined) add(`${r.id} ${f.path} ${e.key}`, `#!/bin/bash\n${body}\n`);
        else assert.doesNotMatch(e.value, /\bsh -c\b/, `${r.id}: an inline shell program we cannot extract`);
      }
    }
    for (const argv of r.guest.runcmd) {
      if (/(^|\/)(ba)?sh$/.test(argv[0] ?? "") && argv[1] === "-c" && argv[2] !== undefined) {
        add(`${r.id} runcmd`, `#!/bin/bash\n${argv[2]}\n`);
      }
    }
  }
  return [...scripts.values()];
}

describe("shellcheck reports nothing on any generated script", { skip: needTools("shellcheck") }, () => {
  const scripts = collect();

  test("every kind of script is found", () => {
    const where = scripts.map((s) => s.where).join("\n");
    for (const expected of [
      "virtwork-disk-setup.sh",
      "virtwork-db-setup.sh",
      "virtwork-tps-server.sh",
      "virtwork-tps-client.sh",
      "chaos-disk.sh",
      "chaos-process.sh",
      "virtwork-chaos-network-start.sh",
      "virtwork-chaos-network-stop.sh",
      "ExecStart",
      "runcmd",
      "guest-agent-setup",
      "readiness-probe",
    ]) {
      assert.ok(where.includes(expected), `no script from ${expected}`);
    }
  });

  test("all distinct scripts", async () => {
    const failures: string[] = [];
    await mapLimit(scripts, 4, async (s) => {
      const res = await run("shellcheck", ["--severity=style", "--shell=bash", "-"], { input: s.text });
      if (res.code !== 0 || res.stdout.trim()) failures.push(`${s.where}:\n${res.stdout}${res.stderr}`);
    });
    assert.deepEqual(failures, [], failures.join("\n"));
  });

  test("the check is not vacuous: an unquoted expansion is reported", async () => {
    const res = await run("shellcheck", ["-s", "bash", "-"], { input: "#!/bin/bash\nrm -f $1/x\n" });
    assert.notEqual(res.code, 0);
    assert.match(res.stdout, /SC2086/);
  });
});
