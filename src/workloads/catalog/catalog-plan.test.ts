import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { loadConfig } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import type { Secret, Service, VirtualMachine } from "../../manifests/objects.ts";
import { plan } from "../../plan/plan.ts";
import { createRegistry } from "../registry.ts";
import { type ParsedUserData, parseUnit, unitValue, workloadPart } from "../testing.ts";
import { openCatalog } from "./source.ts";
import { makeCatalog, unit } from "./testing.ts";

const RUN_ID = "00000000-0000-4000-8000-0000000000ca";
const catalog = makeCatalog({
  single: {
    "workload.yaml": stringify({
      description: "one unit on every VM",
      packages: ["fio"],
      params: [{ key: "jobs", type: "int", default: 2, desc: "jobs" }],
      storage: [{ name: "scratch", size: "5Gi", serial: "vw-scratch", mount: "/mnt/scratch" }],
      service: { ports: [{ name: "metrics", port: 9100 }] },
    }),
    "workload.service": unit("/usr/bin/fio --numjobs={{jobs}} --directory=/mnt/scratch"),
  },
  bare: { "a.service": unit("/bin/a"), "b.service": unit("/bin/b") },
  one: {
    "workload.yaml": stringify({
      roles: [{ name: "server", "vm-count": 3 }],
      service: { ports: [{ name: "dns", port: 53, protocol: "UDP" }], "selector-role": "server" },
    }),
    "server.service": unit("/bin/server"),
  },
  multi: {
    "workload.yaml": stringify({
      packages: ["redis"],
      params: [
        { key: "clients", type: "int", default: 10 },
        { key: "mode", default: "set,get" },
      ],
      roles: [{ name: "server", "vm-count": 1 }, { name: "client" }],
      storage: [{ name: "data", serial: "vw-data", mount: "/var/lib/data" }],
      service: { ports: [{ name: "redis", port: 6379 }], "selector-role": "server" },
    }),
    "server.service": unit("/usr/bin/redis-server"),
    "client.service": unit("/usr/bin/redis-benchmark -c {{clients}} -t {{mode}}"),
  },
  split: {
    "workload.yaml": stringify({
      roles: [{ name: "server", "vm-count": 1 }, { name: "client" }],
      storage: [
        { name: "data", serial: "vw-data", mount: "/var/lib/data", roles: ["server"] },
        { name: "scratch", serial: "vw-scratch", mount: "/mnt/scratch" },
      ],
    }),
    "server.service": unit("/bin/server"),
    "client.service": unit("/bin/client"),
  },
  broken: {
    "workload.yaml": "service:\n  ports:\n    - {name: web, port: 0}\n",
    "web.service": unit(),
  },
  ".hidden": { "x.service": unit() },
});
after(() => catalog.remove());

interface Sources {
  flags?: Record<string, unknown>;
  env?: Record<string, string>;
  file?: Record<string, unknown>;
}

function load({ flags = {}, env = {}, file }: Sources) {
  return loadConfig({
    flags: { "catalog-dir": catalog.dir, ...(file ? { config: "/cfg.yaml" } : {}), ...flags },
    env,
    registry: createRegistry(),
    readFile: () => stringify(file),
    openCatalog,
  });
}

function planFor(s: Sources) {
  const { config, registry } = load(s);
  return plan(config, registry, { runId: RUN_ID });
}

function problem(s: Sources): string {
  try {
    planFor(s);
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${err}`);
    return err.message;
  }
  assert.fail("expected a UsageError");
}

const vmsOf = (p: ReturnType<typeof planFor>) =>
  p.objects.filter((o): o is VirtualMachine => o.kind === "VirtualMachine");
const servicesOf = (p: ReturnType<typeof planFor>) =>
  p.objects.filter((o): o is Service => o.kind === "Service");
function userData(p: ReturnType<typeof planFor>, vm: string): ParsedUserData {
  const secret = p.objects.find(
    (o): o is Secret => o.kind === "Secret" && o.metadata?.name === `${vm}-cloudinit`,
  );
  assert.ok(secret?.stringData?.userdata);
  return workloadPart(parse(secret.stringData.userdata, { version: "1.1" }) as ParsedUserData);
}

describe("catalog entries in the plan", () => {
  it("single-role entry with storage and Service: no role label, entry-scoped selector, disk with serial", () => {
    const p = planFor({ flags: { "from-catalog": ["single"], "vm-count": "2" } });
    const vms = vmsOf(p);
    assert.deepEqual(
      vms.map((v) => v.metadata?.name),
      ["virtwork-single-0", "virtwork-single-1"],
    );
    for (const vm of vms) {
      assert.equal(vm.metadata?.labels?.["virtwork/role"], undefined);
      assert.equal(vm.metadata?.labels?.["app.kubernetes.io/component"], "single");
    }
    const [svc] = servicesOf(p);
    assert.equal(svc?.metadata?.name, "virtwork-single");
    assert.deepEqual(svc?.spec?.selector, { "app.kubernetes.io/component": "single" });
    assert.deepEqual(svc?.spec?.ports, [{ name: "metrics", port: 9100, protocol: "TCP" }]);

    const spec = vms[0]?.spec;
    assert.deepEqual(spec?.template.spec?.domain.devices.disks?.[2], {
      name: "scratch",
      serial: "vw-scratch",
      disk: { bus: "virtio" },
    });
    assert.deepEqual(spec?.template.spec?.volumes?.[2], {
      name: "scratch",
      dataVolume: { name: "scratch-virtwork-single-0" },
    });
    assert.equal(spec?.dataVolumeTemplates?.[0]?.metadata?.name, "scratch-virtwork-single-0");
    assert.deepEqual(spec?.dataVolumeTemplates?.[0]?.spec?.storage?.resources?.requests, { storage: "5Gi" });

    const doc = userData(p, "virtwork-single-0");
    assert.deepEqual(doc.packages, ["fio", "xfsprogs"]);
    assert.deepEqual(
      doc.write_files.map((f) => f.path),
      ["/usr/local/bin/virtwork-disk-setup-scratch.sh", "/etc/systemd/system/workload.service"],
    );
    assert.equal(doc.write_files[0]?.permissions, "0755");
    assert.match(doc.write_files[0]?.content ?? "", /DISK="\/dev\/disk\/by-id\/virtio-vw-scratch"/);
    assert.match(doc.write_files[0]?.content ?? "", /MOUNT_POINT="\/mnt\/scratch"/);
    assert.equal(
      unitValue(parseUnit(doc.write_files[1]?.content ?? ""), "Service", "ExecStart"),
      "/usr/bin/fio --numjobs=2 --directory=/mnt/scratch",
    );
    assert.deepEqual(doc.runcmd, [
      ["/usr/local/bin/virtwork-disk-setup-scratch.sh"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "workload.service"],
    ]);
    assert.deepEqual(p.workloads, [{ name: "single", vms: 2, roles: {} }]);
  });

  it("an entry without workload.yaml installs and enables every unit; storage-less means no disks", () => {
    const p = planFor({ flags: { "from-catalog": ["bare"] } });
    const doc = userData(p, "virtwork-bare-0");
    assert.equal(doc.packages, undefined);
    assert.deepEqual(doc.runcmd.slice(1), [
      ["systemctl", "enable", "--now", "a.service"],
      ["systemctl", "enable", "--now", "b.service"],
    ]);
    assert.equal(vmsOf(p)[0]?.spec?.dataVolumeTemplates, undefined);
    assert.equal(servicesOf(p).length, 0);
  });

  it("an entry with ONE declared role is multi-role: role label, role vm-count, role-scoped selector (bug 13)", () => {
    const p = planFor({ flags: { "from-catalog": ["one"], "vm-count": "1" } });
    assert.deepEqual(
      vmsOf(p).map((v) => [v.metadata?.name, v.metadata?.labels?.["virtwork/role"]]),
      [
        ["virtwork-one-server-0", "server"],
        ["virtwork-one-server-1", "server"],
        ["virtwork-one-server-2", "server"],
      ],
    );
    const [svc] = servicesOf(p);
    assert.deepEqual(svc?.spec?.selector, {
      "app.kubernetes.io/component": "one",
      "virtwork/role": "server",
    });
    assert.deepEqual(svc?.spec?.ports, [{ name: "dns", port: 53, protocol: "UDP" }]);
    assert.deepEqual(p.workloads, [{ name: "one", vms: 3, roles: { server: 3 } }]);
  });

  it("storage with roles goes only to those roles' VMs; storage without roles to every VM", () => {
    const p = planFor({ flags: { "from-catalog": ["split"] } });
    const disks = Object.fromEntries(
      vmsOf(p).map((vm) => [
        vm.metadata?.name,
        (vm.spec?.dataVolumeTemplates ?? []).map((t) => t.metadata?.name),
      ]),
    );
    assert.deepEqual(disks, {
      "virtwork-split-server-0": ["data-virtwork-split-server-0", "scratch-virtwork-split-server-0"],
      "virtwork-split-client-0": ["scratch-virtwork-split-client-0"],
    });
    assert.deepEqual(
      p.vms.map((v) => [v.name, v.dataVolumes.length]),
      [
        ["virtwork-split-server-0", 2],
        ["virtwork-split-client-0", 1],
      ],
    );
    // The client sets up only its own disk.
    assert.deepEqual(userData(p, "virtwork-split-client-0").runcmd[0], [
      "/usr/local/bin/virtwork-disk-setup-scratch.sh",
    ]);
    assert.deepEqual(userData(p, "virtwork-split-server-0").runcmd.slice(0, 2), [
      ["/usr/local/bin/virtwork-disk-setup-data.sh"],
      ["/usr/local/bin/virtwork-disk-setup-scratch.sh"],
    ]);
  });

  it("multi-role: manifest counts hold, an absent count follows the workload's vm-count; storage on every role", () => {
    const p = planFor({ flags: { "from-catalog": ["multi"], set: ["multi.vm-count=2"] } });
    assert.deepEqual(
      vmsOf(p).map((v) => v.metadata?.name),
      ["virtwork-multi-server-0", "virtwork-multi-client-0", "virtwork-multi-client-1"],
    );
    assert.deepEqual(p.workloads, [{ name: "multi", vms: 3, roles: { server: 1, client: 2 } }]);
    for (const vm of vmsOf(p)) {
      assert.equal(vm.spec?.dataVolumeTemplates?.[0]?.metadata?.name, `data-${vm.metadata?.name}`);
      // No size in the manifest: the run's --disk-size.
      assert.deepEqual(vm.spec?.dataVolumeTemplates?.[0]?.spec?.storage?.resources?.requests, {
        storage: "10Gi",
      });
    }
    const server = userData(p, "virtwork-multi-server-0");
    const client = userData(p, "virtwork-multi-client-0");
    assert.deepEqual(
      server.write_files.map((f) => f.path),
      ["/usr/local/bin/virtwork-disk-setup-data.sh", "/etc/systemd/system/server.service"],
    );
    assert.deepEqual(client.runcmd.at(-1), ["systemctl", "enable", "--now", "client.service"]);
    assert.match(client.write_files[1]?.content ?? "", /redis-benchmark -c 10 -t set,get/);
    assert.deepEqual(servicesOf(p)[0]?.spec?.selector, {
      "app.kubernetes.io/component": "multi",
      "virtwork/role": "server",
    });
  });

  it("a role vm-count of 0 and a workload vm-count of 1 give one VM", () => {
    const p = planFor({ flags: { "from-catalog": ["multi"] } });
    assert.deepEqual(p.workloads[0]?.roles, { server: 1, client: 1 });
  });

  it("params: --params, VIRTWORK_WORKLOAD_<NAME>_PARAMS and YAML workloads.<entry>.params reach the units", () => {
    const cmd = (p: ReturnType<typeof planFor>) =>
      userData(p, "virtwork-multi-client-0").write_files[1]?.content ?? "";
    assert.match(
      cmd(
        planFor({ flags: { "from-catalog": ["multi"], params: ["multi.clients=50,multi.mode=lpush,lpop"] } }),
      ),
      /-c 50 -t lpush,lpop/,
    );
    assert.match(
      cmd(
        planFor({
          flags: { "from-catalog": ["multi"] },
          env: { VIRTWORK_WORKLOAD_MULTI_PARAMS: "clients=7" },
        }),
      ),
      /-c 7 -t set,get/,
    );
    assert.match(
      cmd(planFor({ file: { "from-catalog": ["multi"], workloads: { multi: { params: { clients: 3 } } } } })),
      /-c 3 /,
    );
  });

  it("per-workload settings from env and YAML apply to catalog entries", () => {
    const p = planFor({
      flags: { "from-catalog": ["multi"] },
      env: { VIRTWORK_WORKLOAD_MULTI_VM_COUNT: "3", VIRTWORK_WORKLOAD_MULTI_MEMORY: "4Gi" },
    });
    assert.deepEqual(p.workloads[0]?.roles, { server: 1, client: 3 });
    assert.equal(vmsOf(p)[0]?.spec?.template.spec?.domain.memory?.guest, "4Gi");
    const q = planFor({
      file: { "from-catalog": ["single", "multi"], workloads: { multi: { enabled: false } } },
    });
    assert.deepEqual(
      q.workloads.map((w) => w.name),
      ["single"],
    );
  });

  it("bad params for an entry are errors with a suggestion", () => {
    assert.match(
      problem({ flags: { "from-catalog": ["multi"], params: ["multi.client=5"] } }),
      /--params multi\.client: unknown param "client" for workload "multi" \(did you mean "clients"\?\)/,
    );
    assert.match(
      problem({ flags: { "from-catalog": ["multi"], params: ["multi.clients=many"] } }),
      /--params multi\.clients: value "many" must be an integer/,
    );
  });
});

describe("catalog selection (reference §1.9)", () => {
  const names = (s: Sources) => load(s).config.workloads.map((w) => w.name);

  it("--from-catalog alone runs only the catalog entries", () => {
    assert.deepEqual(names({ flags: { "from-catalog": ["multi", "single"] } }), ["multi", "single"]);
  });

  it("with an explicit --workloads list both run, built-ins first", () => {
    assert.deepEqual(names({ flags: { workloads: ["cpu"], "from-catalog": ["single"] } }), ["cpu", "single"]);
    assert.deepEqual(
      names({ env: { VIRTWORK_WORKLOADS: "memory" }, flags: { "from-catalog": ["single"] } }),
      ["memory", "single"],
    );
  });

  it("VIRTWORK_FROM_CATALOG and YAML from-catalog are comma lists (fixes reference bug 4)", () => {
    assert.deepEqual(names({ env: { VIRTWORK_FROM_CATALOG: "single, multi" } }), ["single", "multi"]);
    assert.deepEqual(names({ file: { "from-catalog": ["one"] } }), ["one"]);
    assert.deepEqual(names({ flags: { "from-catalog": ["single,one"] } }), ["single", "one"]);
  });

  it("catalog-dir from env and YAML; a leading ~ is the home directory", () => {
    const viaEnv = loadConfig({
      flags: { "from-catalog": ["single"] },
      env: { VIRTWORK_CATALOG_DIR: catalog.dir },
      registry: createRegistry(),
      openCatalog,
    });
    assert.equal(viaEnv.config.catalogDir, catalog.dir);
    assert.equal(viaEnv.config.sources.catalogDir, "VIRTWORK_CATALOG_DIR");
    const viaFile = loadConfig({
      flags: { config: "/c.yaml" },
      env: {},
      registry: createRegistry(),
      readFile: () => stringify({ catalog_dir: catalog.dir, from_catalog: ["single"] }),
      openCatalog,
    });
    assert.deepEqual(
      viaFile.config.workloads.map((w) => w.name),
      ["single"],
    );
    const home = loadConfig({ flags: { "catalog-dir": "~/cat" }, env: {}, registry: createRegistry() });
    assert.ok(!home.config.catalogDir.startsWith("~"));
    assert.ok(home.config.catalogDir.endsWith("/cat"));
  });

  it("--workloads does not take catalog entries, and --from-catalog does not take built-ins", () => {
    assert.match(
      problem({ flags: { workloads: ["single"] } }),
      /"single" is a catalog entry; select it with --from-catalog single/,
    );
    assert.match(
      problem({ flags: { "from-catalog": ["cpu"] } }),
      /--from-catalog: "cpu" is a built-in workload, not a catalog entry/,
    );
    assert.deepEqual(names({ flags: { workloads: ["all"], "from-catalog": ["one"] } }).length, 10);
  });

  it("an unknown entry names the directory and suggests the closest entry; hidden directories are not entries", () => {
    assert.match(
      problem({ flags: { "from-catalog": ["singel"] } }),
      /catalog entry "singel": no directory .*\/singel \(did you mean "single"\?\); entries in .*: bare, broken, multi, one, single/,
    );
    assert.match(problem({ flags: { "from-catalog": [".hidden"] } }), /must be a DNS-1123 label/);
  });

  it("a missing catalog directory is an error only when an entry is asked for", () => {
    assert.deepEqual(names({ flags: { "catalog-dir": "/nonexistent/virtwork" } }).length, 6);
    assert.match(
      problem({ flags: { "catalog-dir": "/nonexistent/virtwork", "from-catalog": ["x"] } }),
      /catalog directory \/nonexistent\/virtwork \(--catalog-dir\) does not exist/,
    );
  });

  it("an invalid entry fails the run with file, line and field", () => {
    assert.match(
      problem({ flags: { "from-catalog": ["broken"] } }),
      /^catalog entry "broken": .*\/broken\/workload\.yaml:3: service\.ports\[0\]\.port: must be between 1 and 65535, got 0$/,
    );
  });

  it("an invalid entry that is not selected does not matter", () => {
    assert.deepEqual(names({ flags: { "from-catalog": ["single"] } }), ["single"]);
  });
});
