// Adding a built-in workload is one file plus one line in src/workloads/registry.ts: every
// command reads the registry. This registers one more (as that line would) and finds it in
// completion, `workloads -o json`, `validate` and a dry-run, without touching anything else.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { main } from "../../src/cli/program.ts";
import { BUILTIN_WORKLOADS, createRegistry } from "../../src/workloads/registry.ts";
import { enableNow, simpleServiceFile } from "../../src/workloads/systemd.ts";
import type { Workload } from "../../src/workloads/types.ts";

const sleeper: Workload = {
  name: "sleeper",
  description: "Sleeps in a loop (registered by this test)",
  optIn: false,
  params: [{ name: "seconds", type: "int", default: "60", description: "length of each sleep" }],
  build: (ctx) => ({
    roles: [
      {
        guest: {
          packages: [],
          files: [
            simpleServiceFile("virtwork-sleeper.service", {
              description: "sleeps",
              execStart: `/usr/bin/sleep ${ctx.params.seconds}`,
            }),
          ],
          runcmd: enableNow("virtwork-sleeper.service"),
        },
      },
    ],
    dataDisks: [],
  }),
};

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    env: {},
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    registry: createRegistry([...BUILTIN_WORKLOADS, sleeper]),
  });
  return { code, stdout, stderr };
}

interface Obj {
  kind: string;
  metadata: { name: string };
  stringData?: { userdata: string };
}

describe("a workload added to the registry", () => {
  it("is completed after --workloads", async () => {
    const r = await cli(["completion", "bash"]);
    assert.equal(r.code, 0, r.stderr);
    // Driven as bash does: the registry's names are in the script itself.
    const offered = spawnSync(
      "bash",
      [
        "-c",
        `eval "$SCRIPT"; COMP_WORDS=(virtwork run --workloads ""); COMP_CWORD=3; _virtwork; echo "\${COMPREPLY[*]}"`,
      ],
      { env: { PATH: process.env.PATH, SCRIPT: r.stdout }, encoding: "utf8" },
    ).stdout;
    assert.match(offered, /^cpu .*\bsleeper all$/m);
  });

  it("is listed by `workloads -o json` with its params", async () => {
    const r = await cli(["workloads", "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as {
      name: string;
      source: string;
      default: boolean;
      params: unknown[];
    }[];
    const entry = list.find((w) => w.name === "sleeper");
    assert.deepEqual(entry && { ...entry, roles: undefined }, {
      name: "sleeper",
      source: "builtin",
      description: sleeper.description,
      default: true,
      roles: undefined,
      params: [{ name: "seconds", type: "int", default: "60", description: "length of each sleep" }],
    });
  });

  it("is validated and planned: in the default run, and on its own with a param", async () => {
    const ok = await cli(["validate", "sleeper", "--params", "sleeper.seconds=5"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /OK: configuration is valid: 1 VMs in namespace virtwork: sleeper×1/);
    const bad = await cli(["validate", "sleeper", "--params", "sleeper.seconds=soon"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^Error: --params sleeper\.seconds: /);

    const all = await cli(["run", "--dry-run"]);
    assert.equal(all.code, 0, all.stderr);
    const names = parseAllDocuments(all.stdout).map((d) => (d.toJS() as Obj).metadata.name);
    assert.ok(names.includes("virtwork-sleeper-0"), names.join(", "));

    const one = await cli(["run", "--dry-run", "-w", "sleeper", "--params", "sleeper.seconds=5"]);
    assert.equal(one.code, 0, one.stderr);
    const objs = parseAllDocuments(one.stdout).map((d) => d.toJS() as Obj);
    assert.deepEqual(
      objs.map((o) => `${o.kind}/${o.metadata.name}`),
      ["Namespace/virtwork", "Secret/virtwork-sleeper-0-cloudinit", "VirtualMachine/virtwork-sleeper-0"],
    );
    const userdata = objs.find((o) => o.kind === "Secret")?.stringData?.userdata ?? "";
    const unit = parseYaml(userdata).write_files.find(
      (f: { path: string }) => f.path === "/etc/systemd/system/virtwork-sleeper.service",
    );
    assert.match(unit.content, /^ExecStart=\/usr\/bin\/sleep 5$/m);
    // Its readiness probe checks its own unit: nothing else had to be told about it.
    const vm = objs.find((o) => o.kind === "VirtualMachine") as unknown as {
      spec: { template: { spec: { readinessProbe: { exec: { command: string[] } } } } };
    };
    assert.ok(vm.spec.template.spec.readinessProbe.exec.command.length > 0);
  });
});
