import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { passwordMatches, SHA512_CRYPT } from "../cloudinit/password.ts";
import { UsageError } from "../errors.ts";
import { createRegistry } from "../workloads/registry.ts";
import { type Config, loadConfig } from "./load.ts";
import { SETTINGS } from "./settings.ts";

const registry = createRegistry();
const CONFIG_PATH = "/virtwork-test/config.yaml";

interface Sources {
  flags?: Record<string, unknown>;
  env?: Record<string, string>;
  file?: Record<string, unknown>;
  files?: Record<string, string>;
}

function load(s: Sources = {}) {
  const files: Record<string, string> = { ...s.files };
  const flags = { ...s.flags };
  if (s.file) {
    files[CONFIG_PATH] = stringify(s.file);
    flags.config = CONFIG_PATH;
  }
  return loadConfig({
    flags,
    env: s.env ?? {},
    registry,
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
      return text;
    },
  });
}

function problem(s: Sources): string {
  try {
    load(s);
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${err}`);
    return err.message;
  }
  assert.fail("expected a UsageError");
}

/**
 * One global setting through the four layers: default, then file, then env over the file,
 * then the flag over both. Consecutive layers use different values so each step shows.
 */
interface Layered {
  setting: string;
  flag: string;
  env: string;
  fileKey: string;
  values: { file: unknown; env: string; flag: unknown };
  expected: { default: unknown; file: unknown; env: unknown; flag: unknown };
  get: (c: Config) => unknown;
}

const GLOBAL: Layered[] = [
  {
    setting: "namespace",
    flag: "namespace",
    env: "VIRTWORK_NAMESPACE",
    fileKey: "namespace",
    values: { file: "ns-file", env: "ns-env", flag: "ns-flag" },
    expected: { default: "virtwork", file: "ns-file", env: "ns-env", flag: "ns-flag" },
    get: (c) => c.namespace,
  },
  {
    setting: "kubeconfig",
    flag: "kubeconfig",
    env: "VIRTWORK_KUBECONFIG",
    fileKey: "kubeconfig",
    values: { file: "/file/kc", env: "/env/kc", flag: "/flag/kc" },
    expected: { default: undefined, file: "/file/kc", env: "/env/kc", flag: "/flag/kc" },
    get: (c) => c.kubeconfig,
  },
  {
    setting: "context",
    flag: "context",
    env: "VIRTWORK_CONTEXT",
    fileKey: "context",
    values: { file: "ctx-file", env: "ctx-env", flag: "ctx-flag" },
    expected: { default: undefined, file: "ctx-file", env: "ctx-env", flag: "ctx-flag" },
    get: (c) => c.context,
  },
  {
    setting: "verbose",
    flag: "verbose",
    env: "VIRTWORK_VERBOSE",
    fileKey: "verbose",
    values: { file: true, env: "false", flag: true },
    expected: { default: false, file: true, env: false, flag: true },
    get: (c) => c.verbose,
  },
  {
    setting: "audit",
    flag: "audit",
    env: "VIRTWORK_AUDIT",
    fileKey: "audit",
    values: { file: false, env: "true", flag: false },
    expected: { default: true, file: false, env: true, flag: false },
    get: (c) => c.audit,
  },
  {
    setting: "audit-db",
    flag: "audit-db",
    env: "VIRTWORK_AUDIT_DB",
    fileKey: "audit-db",
    values: { file: "/f.db", env: "/e.db", flag: "/x.db" },
    expected: { default: undefined, file: "/f.db", env: "/e.db", flag: "/x.db" },
    get: (c) => c.auditDb,
  },
  {
    setting: "workloads",
    flag: "workloads",
    env: "VIRTWORK_WORKLOADS",
    fileKey: "workloads",
    values: { file: ["memory"], env: "disk,cpu", flag: ["network", "tps"] },
    expected: {
      default: ["cpu", "memory", "disk", "database", "network", "tps"],
      file: ["memory"],
      env: ["disk", "cpu"],
      flag: ["network", "tps"],
    },
    get: (c) => c.workloads.map((w) => w.name),
  },
  {
    setting: "vm-count",
    flag: "vm-count",
    env: "VIRTWORK_VM_COUNT",
    fileKey: "vm-count",
    values: { file: 2, env: "3", flag: "4" },
    expected: { default: 1, file: 2, env: 3, flag: 4 },
    get: (c) => c.workloads[0]?.vmCount,
  },
  {
    setting: "cpu-cores",
    flag: "cpu-cores",
    env: "VIRTWORK_CPU_CORES",
    fileKey: "cpu-cores",
    values: { file: 3, env: "4", flag: "5" },
    expected: { default: 2, file: 3, env: 4, flag: 5 },
    get: (c) => c.workloads[0]?.cpuCores,
  },
  {
    setting: "memory",
    flag: "memory",
    env: "VIRTWORK_MEMORY",
    fileKey: "memory",
    values: { file: "3Gi", env: "4Gi", flag: "512Mi" },
    expected: { default: "2Gi", file: "3Gi", env: "4Gi", flag: "512Mi" },
    get: (c) => c.workloads[0]?.memory.text,
  },
  {
    setting: "disk-size",
    flag: "disk-size",
    env: "VIRTWORK_DISK_SIZE",
    fileKey: "disk-size",
    values: { file: "20Gi", env: "30Gi", flag: "1Ti" },
    expected: { default: "10Gi", file: "20Gi", env: "30Gi", flag: "1Ti" },
    get: (c) => c.diskSize.text,
  },
  {
    setting: "container-disk-image",
    flag: "container-disk-image",
    env: "VIRTWORK_CONTAINER_DISK_IMAGE",
    fileKey: "container-disk-image",
    values: { file: "example.com/f:1", env: "example.com/e:1", flag: "example.com/x:1" },
    expected: {
      default: "quay.io/containerdisks/fedora:42",
      file: "example.com/f:1",
      env: "example.com/e:1",
      flag: "example.com/x:1",
    },
    get: (c) => c.containerDiskImage,
  },
  {
    setting: "log-format",
    flag: "log-format",
    env: "VIRTWORK_LOG_FORMAT",
    fileKey: "log-format",
    values: { file: "json", env: "text", flag: "json" },
    expected: { default: undefined, file: "json", env: "text", flag: "json" },
    get: (c) => c.logFormat,
  },
  {
    setting: "storage-class",
    flag: "storage-class",
    env: "VIRTWORK_STORAGE_CLASS",
    fileKey: "storage-class",
    values: { file: "sc-file", env: "sc-env", flag: "sc-flag" },
    expected: { default: undefined, file: "sc-file", env: "sc-env", flag: "sc-flag" },
    get: (c) => c.storageClass,
  },
  {
    setting: "dry-run",
    flag: "dry-run",
    env: "VIRTWORK_DRY_RUN",
    fileKey: "dry-run",
    values: { file: "client", env: "server", flag: true },
    expected: { default: "none", file: "client", env: "server", flag: "client" },
    get: (c) => c.dryRun,
  },
  {
    setting: "wait",
    flag: "wait",
    env: "VIRTWORK_WAIT",
    fileKey: "wait",
    values: { file: false, env: "true", flag: false },
    expected: { default: true, file: false, env: true, flag: false },
    get: (c) => c.wait,
  },
  {
    setting: "timeout",
    flag: "timeout",
    env: "VIRTWORK_TIMEOUT",
    fileKey: "timeout",
    values: { file: "5m", env: "90", flag: "1h30m" },
    expected: { default: 600, file: 300, env: 90, flag: 5400 },
    get: (c) => c.timeoutSeconds,
  },
  {
    setting: "ssh-user",
    flag: "ssh-user",
    env: "VIRTWORK_SSH_USER",
    fileKey: "ssh-user",
    values: { file: "fileuser", env: "envuser", flag: "flaguser" },
    expected: { default: "virtwork", file: "fileuser", env: "envuser", flag: "flaguser" },
    // The user only exists with credentials; the password below comes from the default env.
    get: (c) => c.ssh?.user,
  },
  {
    setting: "ssh-password",
    flag: "ssh-password",
    env: "VIRTWORK_SSH_PASSWORD",
    fileKey: "ssh-password",
    values: { file: "pw-file", env: "pw-env", flag: "pw-flag" },
    expected: { default: undefined, file: "pw-file", env: "pw-env", flag: "pw-flag" },
    // Only the hash is kept: which of the given passwords does it match?
    get: (c) => {
      const hash = c.ssh?.passwordHash;
      return hash && ["pw-file", "pw-env", "pw-flag"].find((p) => passwordMatches(p, hash));
    },
  },
  {
    setting: "ssh-authorized-keys",
    flag: "ssh-key",
    env: "VIRTWORK_SSH_AUTHORIZED_KEYS",
    fileKey: "ssh-authorized-keys",
    values: { file: ["ssh-ed25519 AAAAfile f"], env: "ssh-ed25519 AAAAenv e", flag: ["ssh-rsa AAAAflag x"] },
    expected: {
      default: undefined,
      file: ["ssh-ed25519 AAAAfile f"],
      env: ["ssh-ed25519 AAAAenv e"],
      flag: ["ssh-rsa AAAAflag x"],
    },
    get: (c) => c.ssh?.authorizedKeys,
  },
  {
    setting: "vm-concurrency",
    flag: "vm-concurrency",
    env: "VIRTWORK_VM_CONCURRENCY",
    fileKey: "vm-concurrency",
    values: { file: 5, env: "6", flag: "7" },
    expected: { default: 10, file: 5, env: 6, flag: 7 },
    get: (c) => c.vmConcurrency,
  },
  {
    setting: "output",
    flag: "output",
    env: "VIRTWORK_OUTPUT",
    fileKey: "output",
    values: { file: "json", env: "yaml", flag: "json" },
    expected: { default: "yaml", file: "json", env: "yaml", flag: "json" },
    get: (c) => c.output,
  },
];

GLOBAL.push(
  {
    setting: "wait-for",
    flag: "wait-for",
    env: "VIRTWORK_WAIT_FOR",
    fileKey: "wait-for",
    values: { file: "running", env: "ready", flag: "running" },
    expected: { default: "ready", file: "running", env: "ready", flag: "running" },
    get: (c) => c.waitFor,
  },
  {
    setting: "unschedulable-grace",
    flag: "unschedulable-grace",
    env: "VIRTWORK_UNSCHEDULABLE_GRACE",
    fileKey: "unschedulable-grace",
    values: { file: 30, env: "40", flag: "1m" },
    expected: { default: 120, file: 30, env: 40, flag: 60 },
    get: (c) => c.unschedulableGraceSeconds,
  },
  {
    setting: "qps",
    flag: "qps",
    env: "VIRTWORK_QPS",
    fileKey: "qps",
    values: { file: 5, env: "6", flag: "7" },
    expected: { default: 100, file: 5, env: 6, flag: 7 },
    get: (c) => c.qps,
  },
  {
    setting: "burst",
    flag: "burst",
    env: "VIRTWORK_BURST",
    fileKey: "burst",
    values: { file: 5, env: "6", flag: "7" },
    expected: { default: 500, file: 5, env: 6, flag: 7 },
    get: (c) => c.burst,
  },
  {
    setting: "guest-os",
    flag: "guest-os",
    env: "VIRTWORK_GUEST_OS",
    fileKey: "guest-os",
    values: { file: "debian", env: "ubuntu", flag: "centos-stream" },
    expected: { default: "fedora", file: "debian", env: "ubuntu", flag: "centos-stream" },
    get: (c) => c.guestOs,
  },
  {
    setting: "eviction-strategy",
    flag: "eviction-strategy",
    env: "VIRTWORK_EVICTION_STRATEGY",
    fileKey: "eviction-strategy",
    values: { file: "None", env: "livemigrate", flag: "cluster" },
    expected: { default: "LiveMigrateIfPossible", file: "None", env: "LiveMigrate", flag: "cluster" },
    get: (c) => c.evictionStrategy,
  },
  {
    setting: "cpu-request",
    flag: "cpu-request",
    env: "VIRTWORK_CPU_REQUEST",
    fileKey: "cpu-request",
    values: { file: 1.5, env: "none", flag: "500m" },
    expected: { default: "auto", file: "1.5", env: "none", flag: "500m" },
    get: (c) => c.workloads[0]?.cpuRequest,
  },
  {
    setting: "termination-grace-period",
    flag: "termination-grace-period",
    env: "VIRTWORK_TERMINATION_GRACE_PERIOD",
    fileKey: "termination-grace-period",
    values: { file: 60, env: "2m", flag: "300" },
    expected: { default: undefined, file: 60, env: 120, flag: 300 },
    get: (c) => c.workloads[0]?.terminationGracePeriodSeconds,
  },
  {
    setting: "golden-image",
    flag: "golden-image",
    env: "VIRTWORK_GOLDEN_IMAGE",
    fileKey: "golden-image",
    values: { file: true, env: "false", flag: true },
    expected: { default: false, file: true, env: false, flag: true },
    get: (c) => c.goldenImage,
  },
  {
    setting: "rng",
    flag: "rng",
    env: "VIRTWORK_RNG",
    fileKey: "rng",
    values: { file: false, env: "true", flag: false },
    expected: { default: true, file: false, env: true, flag: false },
    get: (c) => c.rng,
  },
  {
    setting: "catalog-dir",
    flag: "catalog-dir",
    env: "VIRTWORK_CATALOG_DIR",
    fileKey: "catalog-dir",
    values: { file: "/cat/file", env: "/cat/env", flag: "/cat/flag" },
    expected: {
      default: `${process.env.HOME}/.virtwork/catalog`,
      file: "/cat/file",
      env: "/cat/env",
      flag: "/cat/flag",
    },
    get: (c) => c.catalogDir,
  },
);

describe("configuration priority: flag > env > file > default", () => {
  it("covers every setting of the table", () => {
    // ssh-key-files and from-catalog need files / a catalog: tested on their own below and in
    // src/workloads/catalog/catalog-plan.test.ts.
    const tested = new Set([
      ...GLOBAL.map((s) => s.fileKey),
      "ssh-key-files",
      "from-catalog",
      "ssh-password-file",
    ]);
    const missing = Object.values(SETTINGS)
      .map((d) => d.key)
      .filter((k) => !tested.has(k));
    assert.deepEqual(missing, [], "settings without a priority test");
  });

  for (const s of GLOBAL) {
    it(`${s.setting}`, () => {
      // ssh-user needs credentials to be visible at all; golden-image needs an image.
      const base: Record<string, string> =
        s.setting === "ssh-user"
          ? { VIRTWORK_SSH_PASSWORD: "pw" }
          : s.setting === "golden-image"
            ? { VIRTWORK_CONTAINER_DISK_IMAGE: "registry.example.com/lab/virtwork-golden-fedora:42" }
            : {};
      const env = { ...base, [s.env]: s.values.env };
      assert.deepEqual(s.get(load({ env: base }).config), s.expected.default, "default");
      assert.deepEqual(
        s.get(load({ env: base, file: { [s.fileKey]: s.values.file } }).config),
        s.expected.file,
        "file",
      );
      assert.deepEqual(
        s.get(load({ env, file: { [s.fileKey]: s.values.file } }).config),
        s.expected.env,
        "env over file",
      );
      assert.deepEqual(
        s.get(load({ env, file: { [s.fileKey]: s.values.file }, flags: { [s.flag]: s.values.flag } }).config),
        s.expected.flag,
        "flag over env",
      );
    });
  }

  it("ssh-key-files are read from every source, flag first", () => {
    const files = {
      "/k/flag.pub": "ssh-ed25519 AAAAflag a\n",
      "/k/env.pub": "ssh-ed25519 AAAAenv b\n",
      "/k/file.pub": "# comment\nssh-ed25519 AAAAfile c\n\n",
    };
    const get = (s: Sources) => load({ ...s, files }).config.ssh?.authorizedKeys;
    assert.deepEqual(get({ file: { "ssh-key-files": ["/k/file.pub"] } }), ["ssh-ed25519 AAAAfile c"]);
    assert.deepEqual(
      get({ file: { "ssh-key-files": ["/k/file.pub"] }, env: { VIRTWORK_SSH_KEY_FILES: "/k/env.pub" } }),
      ["ssh-ed25519 AAAAenv b"],
    );
    assert.deepEqual(
      get({
        env: { VIRTWORK_SSH_KEY_FILES: "/k/env.pub" },
        flags: { "ssh-key-file": ["/k/flag.pub"], "ssh-key": ["ssh-rsa AAAAx y"] },
      }),
      ["ssh-rsa AAAAx y", "ssh-ed25519 AAAAflag a"],
    );
  });
});

/** Per-workload settings: --set > VIRTWORK_WORKLOAD_<NAME>_<FIELD> > workloads.<name>.<field>. */
describe("per-workload settings priority", () => {
  const cases = [
    {
      field: "vm-count",
      env: "VIRTWORK_WORKLOAD_CHAOS_DISK_VM_COUNT",
      values: [2, "3", "4"],
      expected: [1, 2, 3, 4],
    },
    {
      field: "cpu-cores",
      env: "VIRTWORK_WORKLOAD_CHAOS_DISK_CPU_CORES",
      values: [3, "4", "5"],
      expected: [2, 3, 4, 5],
    },
    {
      field: "memory",
      env: "VIRTWORK_WORKLOAD_CHAOS_DISK_MEMORY",
      values: ["3Gi", "4Gi", "1Gi"],
      expected: ["2Gi", "3Gi", "4Gi", "1Gi"],
    },
    {
      field: "cpu-request",
      env: "VIRTWORK_WORKLOAD_CHAOS_DISK_CPU_REQUEST",
      values: ["250m", "none", "2"],
      expected: ["auto", "250m", "none", "2"],
    },
    {
      field: "termination-grace-period",
      env: "VIRTWORK_WORKLOAD_CHAOS_DISK_TERMINATION_GRACE_PERIOD",
      values: [45, "1m", "90s"],
      expected: [undefined, 45, 60, 90],
    },
  ] as const;
  const pick = (c: Config, field: string) => {
    const w = c.workloads.find((x) => x.name === "chaos-disk");
    return {
      "vm-count": w?.vmCount,
      "cpu-cores": w?.cpuCores,
      memory: w?.memory.text,
      "cpu-request": w?.cpuRequest,
      "termination-grace-period": w?.terminationGracePeriodSeconds,
    }[field];
  };
  for (const c of cases) {
    it(c.field, () => {
      const flags = { workloads: ["chaos-disk"] };
      const file = { workloads: { "chaos-disk": { [c.field]: c.values[0] } } };
      const env = { [c.env]: String(c.values[1]) };
      assert.equal(pick(load({ flags }).config, c.field), c.expected[0]);
      assert.equal(pick(load({ flags, file }).config, c.field), c.expected[1]);
      assert.equal(pick(load({ flags, file, env }).config, c.field), c.expected[2]);
      assert.equal(
        pick(
          load({ flags: { ...flags, set: [`chaos-disk.${c.field}=${c.values[2]}`] }, file, env }).config,
          c.field,
        ),
        c.expected[3],
      );
    });
  }

  it("a workload's own cpu-request and termination-grace-period beat the global ones", () => {
    const { config } = load({
      flags: {
        workloads: ["cpu", "database"],
        "cpu-request": "1",
        "termination-grace-period": "40",
        set: ["database.cpu-request=none", "database.termination-grace-period=600"],
      },
    });
    const of = (name: string) => config.workloads.find((w) => w.name === name);
    assert.deepEqual([of("cpu")?.cpuRequest, of("cpu")?.terminationGracePeriodSeconds], ["1", 40]);
    assert.deepEqual(
      [of("database")?.cpuRequest, of("database")?.terminationGracePeriodSeconds],
      ["none", 600],
    );
  });

  it("bad VM-shape values are usage errors naming the field", () => {
    assert.match(
      problem({ flags: { "cpu-request": "lots" } }),
      /--cpu-request: must be auto, none or a CPU quantity/,
    );
    assert.match(
      problem({ flags: { "cpu-request": "2Gi" } }),
      /--cpu-request: must be auto, none or a CPU quantity/,
    );
    assert.match(problem({ flags: { "cpu-request": "0" } }), /--cpu-request: must be auto, none/);
    assert.match(
      problem({ flags: { set: ["cpu.cpu-request=-1"] } }),
      /--set cpu\.cpu-request: must be auto, none or a CPU quantity/,
    );
    assert.match(
      problem({ env: { VIRTWORK_EVICTION_STRATEGY: "Migrate" } }),
      /VIRTWORK_EVICTION_STRATEGY: must be one of LiveMigrateIfPossible, LiveMigrate, None, External, cluster/,
    );
    assert.match(
      problem({ flags: { "termination-grace-period": "0" } }),
      /--termination-grace-period: must be at least 1/,
    );
  });

  it("enabled", () => {
    const names = (s: Sources) => load(s).config.workloads.map((w) => w.name);
    assert.ok(!names({}).includes("chaos-disk"), "chaos is opt-in by default");
    const file = { workloads: { "chaos-disk": { enabled: true } } };
    assert.ok(names({ file }).includes("chaos-disk"), "file enables");
    const env = { VIRTWORK_WORKLOAD_CHAOS_DISK_ENABLED: "false" };
    assert.ok(!names({ file, env }).includes("chaos-disk"), "env disables over file");
    assert.ok(
      names({ file, env, flags: { set: ["chaos-disk.enabled=true"] } }).includes("chaos-disk"),
      "--set wins",
    );
    assert.ok(!names({ flags: { set: ["cpu.enabled=false"] } }).includes("cpu"));
  });

  it("params merge per key: --params > VIRTWORK_PARAMS / VIRTWORK_WORKLOAD_<N>_PARAMS > file > default", () => {
    const params = (s: Sources) => load(s).config.workloads.find((w) => w.name === "cpu")?.params;
    assert.deepEqual(params({}), { "cpu-load-percent": "100", "cpu-method": "all" });
    const file = { workloads: { cpu: { params: { "cpu-load-percent": 10, "cpu-method": "fft" } } } };
    assert.deepEqual(params({ file }), { "cpu-load-percent": "10", "cpu-method": "fft" });
    const env = { VIRTWORK_PARAMS: "cpu.cpu-load-percent=20" };
    assert.deepEqual(params({ file, env }), { "cpu-load-percent": "20", "cpu-method": "fft" });
    const env2 = { VIRTWORK_WORKLOAD_CPU_PARAMS: "cpu-method=matrixprod" };
    assert.deepEqual(params({ file, env: env2 }), { "cpu-load-percent": "10", "cpu-method": "matrixprod" });
    assert.deepEqual(params({ file, env, flags: { params: ["cpu.cpu-load-percent=30"] } }), {
      "cpu-load-percent": "30",
      "cpu-method": "fft",
    });
  });
});

describe("configuration file", () => {
  it("accepts snake_case spellings of every key, including nested ones", () => {
    const { config } = load({
      file: {
        cpu_cores: 6,
        disk_size: "5Gi",
        container_disk_image: "x.io/y:1",
        workloads: { chaos_disk: { vm_count: 2, enabled: true } },
      },
    });
    assert.equal(config.workloads[0]?.cpuCores, 6);
    assert.equal(config.diskSize.text, "5Gi");
    assert.equal(config.containerDiskImage, "x.io/y:1");
    assert.equal(config.workloads.find((w) => w.name === "chaos-disk")?.vmCount, 2);
  });

  it("accepts the original's wait-for-ready and data-disk-size keys", () => {
    const { config } = load({ file: { "wait-for-ready": false, "data-disk-size": "7Gi" } });
    assert.equal(config.wait, false);
    assert.equal(config.diskSize.text, "7Gi");
  });

  it("an empty file is the defaults", () => {
    const { config } = load({ files: { [CONFIG_PATH]: "" }, flags: { config: CONFIG_PATH } });
    assert.equal(config.namespace, "virtwork");
  });

  it("VIRTWORK_CONFIG names the file; --config wins", () => {
    const files = { "/a.yaml": "namespace: from-a\n", "/b.yaml": "namespace: from-b\n" };
    assert.equal(load({ files, env: { VIRTWORK_CONFIG: "/a.yaml" } }).config.namespace, "from-a");
    assert.equal(
      load({ files, env: { VIRTWORK_CONFIG: "/a.yaml" }, flags: { config: "/b.yaml" } }).config.namespace,
      "from-b",
    );
  });

  it("unknown keys are errors with a suggestion", () => {
    assert.match(
      problem({ file: { namespce: "x" } }),
      /unknown key "namespce" \(did you mean "namespace"\?\)/,
    );
    assert.match(
      problem({ file: { workloads: { cpu: { vmcount: 2 } } } }),
      /workloads\.cpu: unknown key "vmcount" \(did you mean "vm-count"\?\)/,
    );
    assert.match(
      problem({ file: { workloads: { cpuu: {} } } }),
      /workloads\.cpuu: unknown workload "cpuu" \(did you mean "cpu"\?\)/,
    );
    assert.match(
      problem({ file: { workloads: { cpu: { params: { "cpu-loadpercent": 3 } } } } }),
      /unknown param "cpu-loadpercent".*did you mean "cpu-load-percent"/,
    );
  });

  it("reports every problem at once", () => {
    const message = problem({ flags: { "vm-count": "0", memory: "2Gx" } });
    assert.match(message, /--vm-count/);
    assert.match(message, /--memory/);
  });
});

describe("guest OS and boot image agree", () => {
  const pair = (s: Sources) => {
    const { config } = load(s);
    return [
      config.guestOs,
      config.containerDiskImage,
      config.sources.guestOs,
      config.sources.containerDiskImage,
    ];
  };

  it("neither given: fedora on its containerdisk", () => {
    assert.deepEqual(pair({}), ["fedora", "quay.io/containerdisks/fedora:42", "default", "default"]);
  });

  it("--guest-os alone boots that OS's containerdisk", () => {
    for (const [os, image] of [
      ["fedora", "quay.io/containerdisks/fedora:42"],
      ["centos-stream", "quay.io/containerdisks/centos-stream:9"],
      ["ubuntu", "quay.io/containerdisks/ubuntu:24.04"],
      ["debian", "quay.io/containerdisks/debian:12"],
    ]) {
      assert.deepEqual(pair({ flags: { "guest-os": os } }), [
        os,
        image,
        "--guest-os",
        "implied by --guest-os",
      ]);
    }
    assert.deepEqual(pair({ env: { VIRTWORK_GUEST_OS: "ubuntu" } }).slice(0, 2), [
      "ubuntu",
      "quay.io/containerdisks/ubuntu:24.04",
    ]);
  });

  it("an image alone implies its OS; an unknown image means fedora", () => {
    assert.deepEqual(pair({ file: { "container-disk-image": "quay.io/containerdisks/debian:12" } }), [
      "debian",
      "quay.io/containerdisks/debian:12",
      `implied by config file ${CONFIG_PATH}: container-disk-image`,
      `config file ${CONFIG_PATH}: container-disk-image`,
    ]);
    assert.deepEqual(
      pair({ flags: { "container-disk-image": "registry.example/my/golden:1" } }).slice(0, 2),
      ["fedora", "registry.example/my/golden:1"],
    );
  });

  it("both given and in agreement, or an image that implies nothing: as given", () => {
    assert.deepEqual(
      pair({
        flags: { "guest-os": "ubuntu", "container-disk-image": "quay.io/containerdisks/ubuntu:22.04" },
      }).slice(0, 2),
      ["ubuntu", "quay.io/containerdisks/ubuntu:22.04"],
    );
    assert.deepEqual(
      pair({
        flags: { "guest-os": "centos-stream", "container-disk-image": "registry.example/rhel9-golden:1" },
      }).slice(0, 2),
      ["centos-stream", "registry.example/rhel9-golden:1"],
    );
  });

  it("an image of another OS than --guest-os is a usage error that says which to change", () => {
    const message = problem({
      flags: { "guest-os": "debian" },
      env: { VIRTWORK_CONTAINER_DISK_IMAGE: "quay.io/containerdisks/ubuntu:24.04" },
    });
    assert.match(
      message,
      /--guest-os: guest OS "debian" contradicts VIRTWORK_CONTAINER_DISK_IMAGE "quay\.io\/containerdisks\/ubuntu:24\.04", which is a ubuntu image; change --guest-os to ubuntu, or the image to a debian one \(e\.g\. quay\.io\/containerdisks\/debian:12\)/,
    );
  });
});

describe("workload selection", () => {
  const names = (s: Sources) => load(s).config.workloads.map((w) => w.name);
  it("defaults to the six non-chaos workloads", () => {
    assert.deepEqual(names({}), ["cpu", "memory", "disk", "database", "network", "tps"]);
  });
  it("'all' adds the chaos workloads; duplicates are dropped", () => {
    assert.equal(names({ flags: { workloads: ["all"] } }).length, 9);
    assert.deepEqual(names({ flags: { workloads: ["cpu,cpu", "memory"] } }), ["cpu", "memory"]);
  });
  it("params of workloads that are not selected are still checked", () => {
    assert.match(
      problem({ flags: { workloads: ["cpu"], params: ["database.clients=many"] } }),
      /database\.clients: value "many" must be an integer/,
    );
  });
  it("a param (flag or env) for a workload that is not selected is an error saying so", () => {
    const cases: [Sources, RegExp][] = [
      [
        { flags: { workloads: ["cpu"], params: ["database.clients=5"] } },
        /^--params database\.clients: workload "database" is not selected; select it with --workloads database/,
      ],
      [
        { flags: { workloads: ["cpu"] }, env: { VIRTWORK_PARAMS: "memory.vm-stressors=2" } },
        /^VIRTWORK_PARAMS memory\.vm-stressors: workload "memory" is not selected/,
      ],
      [
        { flags: { workloads: ["cpu"] }, env: { VIRTWORK_WORKLOAD_DISK_PARAMS: "numjobs=2" } },
        /^VIRTWORK_WORKLOAD_DISK_PARAMS: workload "disk" is not selected/,
      ],
      [
        { flags: { params: ["chaos-disk.fill-percent=50"] } },
        /--params chaos-disk\.fill-percent: workload "chaos-disk" is not selected/,
      ],
    ];
    for (const [sources, expected] of cases) assert.match(problem(sources), expected);
    // A config file may describe workloads that this run does not select.
    const { config } = load({
      flags: { workloads: ["cpu"] },
      file: { workloads: { database: { params: { clients: 5 } } } },
    });
    assert.deepEqual(
      config.workloads.map((w) => w.name),
      ["cpu"],
    );
  });
  it("built-in params with a fixed list take only its values (stress-ng methods, fio engines)", () => {
    const bad: [string, RegExp][] = [
      [
        "cpu.cpu-method=bogus",
        /--params cpu\.cpu-method: value "bogus" must be a stress-ng CPU method .*: one of all, /,
      ],
      ["memory.vm-method=flipp", /--params memory\.vm-method: value "flipp" must be a stress-ng VM method/],
      ["disk.ioengine=windowsaio", /--params disk\.ioengine: value "windowsaio" must be a fio ioengine/],
      ["chaos-process.signal=TERM", /--params chaos-process\.signal: value "TERM" must be a signal name/],
    ];
    for (const [param, expected] of bad) {
      const workload = param.split(".")[0] ?? "";
      assert.match(problem({ flags: { workloads: [workload], params: [param] } }), expected);
    }
    const { config } = load({
      flags: {
        workloads: ["cpu", "memory", "disk"],
        params: ["cpu.cpu-method=matrixprod", "memory.vm-method=zero-one", "disk.ioengine=io_uring"],
      },
    });
    assert.deepEqual(
      config.workloads.map((w) => w.params["cpu-method"] ?? w.params["vm-method"] ?? w.params.ioengine),
      ["matrixprod", "zero-one", "io_uring"],
    );
  });
  it("--params values may contain commas and '='", () => {
    const { config } = load({
      flags: { workloads: ["cpu"], params: ["cpu.cpu-method=all,cpu.cpu-load-percent=5"] },
    });
    assert.deepEqual(config.workloads[0]?.params, { "cpu-load-percent": "5", "cpu-method": "all" });
  });
});

describe("SSH access", () => {
  it("no users block without credentials", () => {
    assert.equal(load({}).config.ssh, undefined);
    const { config, warnings } = load({ flags: { "ssh-user": "alice" } });
    assert.equal(config.ssh, undefined);
    assert.match(warnings.join("\n"), /no guest user is created/);
  });
  it("password or keys create the user; the password is kept only as a salted SHA-512 crypt", () => {
    const { config } = load({ env: { VIRTWORK_SSH_PASSWORD: "s3cret" } });
    const hash = config.ssh?.passwordHash ?? "";
    assert.deepEqual(config.ssh, { user: "virtwork", passwordHash: hash, authorizedKeys: [] });
    assert.match(hash, SHA512_CRYPT);
    assert.ok(passwordMatches("s3cret", hash));
    assert.ok(!JSON.stringify(config).includes("s3cret"), "no plain text anywhere in the config");
    const again = load({ env: { VIRTWORK_SSH_PASSWORD: "s3cret" } }).config.ssh?.passwordHash;
    assert.notEqual(again, hash, "a fresh salt each time");
  });
  it("the password comes from a file (first line), through flag, env and config file", () => {
    const files = { "/pw/a": "from-flag\n", "/pw/b": "from-env\r\n", "/pw/c": "from file" };
    const cases: [Sources, string][] = [
      [
        { files, flags: { "ssh-password-file": "/pw/a" }, env: { VIRTWORK_SSH_PASSWORD_FILE: "/pw/b" } },
        "from-flag",
      ],
      [
        { files, env: { VIRTWORK_SSH_PASSWORD_FILE: "/pw/b" }, file: { "ssh-password-file": "/pw/c" } },
        "from-env",
      ],
      [{ files, file: { "ssh-password-file": "/pw/c" } }, "from file"],
    ];
    for (const [sources, expected] of cases) {
      const { config, warnings } = load(sources);
      assert.ok(passwordMatches(expected, config.ssh?.passwordHash ?? ""), expected);
      assert.deepEqual(warnings, []);
    }
  });
  it("a password on the command line works but warns that others can see it", () => {
    const { config, warnings } = load({ flags: { "ssh-password": "hunter2" } });
    assert.ok(passwordMatches("hunter2", config.ssh?.passwordHash ?? ""));
    assert.match(warnings.join("\n"), /--ssh-password: .*visible to other users/);
    assert.ok(!warnings.join("\n").includes("hunter2"));
    assert.deepEqual(load({ env: { VIRTWORK_SSH_PASSWORD: "hunter2" } }).warnings, []);
  });
  it("bad passwords and password files: one problem naming the source, never the password", () => {
    const files = { "/pw/two": "one\ntwo\n", "/pw/empty": "\n", "/pw/long": `${"x".repeat(1025)}\n` };
    const cases: [Sources, RegExp][] = [
      [
        { flags: { "ssh-password-file": "/pw/none" } },
        /--ssh-password-file: \/pw\/none: cannot read .*no such file/,
      ],
      [{ files, flags: { "ssh-password-file": "/pw/two" } }, /--ssh-password-file: \/pw\/two: .*one line/],
      [{ files, flags: { "ssh-password-file": "/pw/empty" } }, /--ssh-password-file: \/pw\/empty: .*empty/],
      [
        { files, flags: { "ssh-password-file": "/pw/long" } },
        /--ssh-password-file: \/pw\/long: .*at most 1024/,
      ],
      [{ flags: { "ssh-password": "tab\there" } }, /--ssh-password: must not contain newlines or control/],
      [{ env: { VIRTWORK_SSH_PASSWORD: "   " } }, /VIRTWORK_SSH_PASSWORD: must not be empty/],
      [
        { files, flags: { "ssh-password-file": "/pw/two" }, env: { VIRTWORK_SSH_PASSWORD: "x" } },
        /VIRTWORK_SSH_PASSWORD: give the password once: either it or --ssh-password-file/,
      ],
    ];
    for (const [sources, expected] of cases) {
      const message = problem(sources);
      assert.match(message, expected);
      assert.ok(!/tab\there|xxxxxxxx|two/.test(message.replace("/pw/two", "")), message);
    }
  });
  it("system accounts are refused as the SSH user", () => {
    for (const user of [
      "root",
      "daemon",
      "bin",
      "nobody",
      "www-data",
      "systemd-network",
      "sshd",
      "adm",
      "sudo",
    ]) {
      assert.match(
        problem({ flags: { "ssh-user": user, "ssh-password": "pw" } }),
        new RegExp(`--ssh-user: "${user}" is a system account`),
      );
    }
    assert.match(
      problem({ env: { VIRTWORK_SSH_USER: "root", VIRTWORK_SSH_PASSWORD: "pw" } }),
      /VIRTWORK_SSH_USER: "root"/,
    );
    assert.equal(load({ flags: { "ssh-user": "alice", "ssh-password": "pw" } }).config.ssh?.user, "alice");
  });
});

describe("config file values are the text the user wrote", () => {
  /** Loads a config file given as raw YAML (stringify would quote what we mean to leave plain). */
  const loadYaml = (yaml: string) => load({ files: { [CONFIG_PATH]: yaml }, flags: { config: CONFIG_PATH } });
  const problemOf = (yaml: string) =>
    problem({ files: { [CONFIG_PATH]: yaml }, flags: { config: CONFIG_PATH } });

  it("a numeric-looking password is hashed as written, not as YAML's number", () => {
    for (const written of ["0123", "1e3", "0x1F", "0o17", "1.50", ".inf", "true", "-0"]) {
      const { config } = loadYaml(`ssh-password: ${written}\n`);
      assert.ok(passwordMatches(written, config.ssh?.passwordHash ?? ""), `ssh-password: ${written}`);
    }
  });

  it("every string setting keeps its source text (namespace, context, kubeconfig, storage class, image)", () => {
    const { config } = loadYaml(
      [
        "namespace: 0123",
        "context: 0x1F",
        "kubeconfig: 1e3",
        "storage-class: 1e3",
        "container-disk-image: 0123",
        "audit-db: 0x10",
        "cpu-request: 1.50",
        "",
      ].join("\n"),
    );
    assert.equal(config.namespace, "0123");
    assert.equal(config.context, "0x1F");
    assert.equal(config.kubeconfig, "1e3");
    assert.equal(config.storageClass, "1e3");
    assert.equal(config.containerDiskImage, "0123");
    assert.equal(config.auditDb, "0x10");
    assert.equal(config.workloads[0]?.cpuRequest, "1.50");
  });

  it("a param value keeps its source text", () => {
    const { config } = loadYaml("workloads:\n  cpu:\n    params:\n      cpu-load-percent: 050\n");
    assert.equal(config.workloads.find((w) => w.name === "cpu")?.params["cpu-load-percent"], "50");
    assert.match(
      problemOf("workloads:\n  cpu:\n    params:\n      cpu-load-percent: 0x32\n"),
      /workloads\.cpu\.params\.cpu-load-percent: value "0x32" must be an integer/,
    );
  });

  it("numbers and booleans still work; YAML's other spellings of a number are refused like the flag's", () => {
    const { config } = loadYaml("vm-count: 3\naudit: false\nrng: true\ntimeout: 90\n");
    assert.deepEqual(
      [config.workloads[0]?.vmCount, config.audit, config.rng, config.timeoutSeconds],
      [3, false, true, 90],
    );
    assert.match(problemOf("vm-count: 0x10\n"), /: vm-count: must be a whole number, got "0x10"/);
    assert.match(problemOf("cpu-cores: 1e1\n"), /: cpu-cores: must be a whole number, got "1e1"/);
    assert.match(
      problemOf("ssh-user: 0123\nssh-password: pw\n"),
      /ssh-user: "0123" is not a valid Linux user name/,
    );
  });
});
