import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import type { Secret } from "../manifests/objects.ts";
import { goldenPackages, workloadPackages } from "../workloads/golden.ts";
import { GUEST_OS_NAMES, guestProfile } from "../workloads/guest.ts";
import { BUILTIN_WORKLOADS, createRegistry } from "../workloads/registry.ts";
import { enableNow } from "../workloads/systemd.ts";
import type { Workload } from "../workloads/types.ts";
import { plan } from "./plan.ts";

const RUN_ID = "00000000-0000-4000-8000-00000000601d";
const GOLDEN = "registry.example.com/lab/virtwork-golden-fedora:42";

/** A catalog-like workload that needs a package no golden image holds. */
const extra: Workload = {
  name: "extra",
  description: "needs htop",
  optIn: false,
  params: [],
  build: () => ({
    roles: [
      { guest: { packages: ["htop", "curl"], files: [], runcmd: enableNow("virtwork-extra.service") } },
    ],
    dataDisks: [],
  }),
};
const registry = createRegistry([...BUILTIN_WORKLOADS, extra]);
const BUILTINS = BUILTIN_WORKLOADS.map((w) => w.name);

/** User-data documents by Secret name, parsed (YAML 1.1 as cloud-init reads it). */
function userData(flags: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const { config } = loadConfig({ flags, env: {}, registry });
  const guest = guestProfile(config.guestOs);
  const p = plan(config, registry, { runId: RUN_ID, guest });
  const out = new Map<string, Record<string, unknown>>();
  for (const o of p.objects) {
    if (o.kind !== "Secret") continue;
    const text = (o as Secret).stringData?.userdata ?? "";
    assert.ok(text.startsWith("#cloud-config\n"));
    out.set(o.metadata?.name ?? "", parse(text, { version: "1.1" }) as Record<string, unknown>);
  }
  return out;
}

function problemOf(flags: Record<string, unknown>, env: Record<string, string> = {}): string {
  try {
    loadConfig({ flags, env, registry });
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    return err.message;
  }
  assert.fail("expected a usage error");
}

describe("--golden-image: user-data that installs nothing", () => {
  for (const os of GUEST_OS_NAMES) {
    it(`${os}: every built-in workload only writes and starts its units`, () => {
      const docs = userData({
        workloads: BUILTINS,
        "guest-os": os,
        "container-disk-image": GOLDEN.replace("fedora", os),
        "golden-image": true,
      });
      assert.equal(docs.size, 11);
      for (const [name, doc] of docs) {
        for (const key of ["packages", "package_update", "package_upgrade", "apt", "yum_repos", "bootcmd"])
          assert.equal(doc[key], undefined, `${name}: ${key}`);
        assert.deepEqual(Object.keys(doc).sort(), ["runcmd", "write_files"], name);
        const runcmd = doc.runcmd as string[][];
        assert.ok(runcmd.length > 0, `${name} runs its setup`);
        assert.doesNotMatch(
          JSON.stringify(runcmd),
          /apt-get|dnf|yum|modules-extra/,
          `${name}: no install step`,
        );
        assert.ok(
          runcmd.some((c) => c[0] === "systemctl" && c[1] === "enable" && c[2] === "--now"),
          `${name} starts its unit`,
        );
      }
    });
  }

  it("without the flag the same run installs the packages (and the image stays the same)", () => {
    const plain = userData({
      workloads: ["chaos-network", "cpu"],
      "guest-os": "fedora",
      "container-disk-image": GOLDEN,
    });
    const golden = userData({
      workloads: ["chaos-network", "cpu"],
      "guest-os": "fedora",
      "container-disk-image": GOLDEN,
      "golden-image": true,
    });
    // Without the flag the guest agent (for the readiness probe) and the workload's tools are installed.
    assert.deepEqual(plain.get("virtwork-cpu-0-cloudinit")?.packages, ["qemu-guest-agent", "stress-ng"]);
    // Fedora's sch_netem install step is gone too; the files and the unit start are the same.
    const runcmdPlain = plain.get("virtwork-chaos-network-0-cloudinit")?.runcmd as string[][];
    const runcmdGolden = golden.get("virtwork-chaos-network-0-cloudinit")?.runcmd as string[][];
    assert.match(JSON.stringify(runcmdPlain), /kernel-modules-extra/);
    assert.deepEqual(
      runcmdGolden,
      runcmdPlain.filter((c) => !JSON.stringify(c).includes("kernel-modules-extra")),
    );
    for (const name of ["virtwork-cpu-0-cloudinit", "virtwork-chaos-network-0-cloudinit"]) {
      assert.deepEqual(golden.get(name)?.write_files, plain.get(name)?.write_files, name);
    }
  });

  it("a package the golden image does not hold is still installed", () => {
    const docs = userData({ workloads: ["extra"], "container-disk-image": GOLDEN, "golden-image": true });
    assert.deepEqual(docs.get("virtwork-extra-0-cloudinit")?.packages, ["htop"]);
  });

  it("the setting comes from the flag, VIRTWORK_GOLDEN_IMAGE or the config file, default off", () => {
    const base = { workloads: ["cpu"], "container-disk-image": GOLDEN };
    const get = (flags: Record<string, unknown>, env: Record<string, string> = {}, file?: string) =>
      loadConfig({
        flags: { ...base, ...flags, ...(file ? { config: "/c.yaml" } : {}) },
        env,
        registry,
        readFile: () => file ?? "",
      }).config.goldenImage;
    assert.equal(get({}), false);
    assert.equal(get({ "golden-image": true }), true);
    assert.equal(get({}, { VIRTWORK_GOLDEN_IMAGE: "true" }), true);
    assert.equal(get({}, {}, "golden-image: true\n"), true);
    assert.equal(get({ "golden-image": false }, { VIRTWORK_GOLDEN_IMAGE: "true" }), false);
  });
});

describe("--golden-image: bad input", () => {
  it("without an image: one problem naming the flag and the fix", () => {
    const msg = problemOf({ workloads: ["cpu"], "guest-os": "debian", "golden-image": true });
    assert.equal(msg.split("\n").length, 1, msg);
    assert.match(
      msg,
      /^--golden-image: a golden image must be named: give --container-disk-image <your golden debian image>/,
    );
  });

  it("with a stock containerdisk: refused, naming the image", () => {
    const msg = problemOf({
      workloads: ["cpu"],
      "container-disk-image": "quay.io/containerdisks/ubuntu:24.04",
      "golden-image": true,
    });
    assert.equal(msg.split("\n").length, 1, msg);
    assert.match(
      msg,
      /^--golden-image: --container-disk-image "quay\.io\/containerdisks\/ubuntu:24\.04" is a stock containerdisk/,
    );
  });

  it("a value that is not a boolean names the env var", () => {
    const msg = problemOf(
      { workloads: ["cpu"], "container-disk-image": GOLDEN },
      { VIRTWORK_GOLDEN_IMAGE: "maybe" },
    );
    assert.match(msg, /VIRTWORK_GOLDEN_IMAGE/);
    assert.equal(msg.split("\n").length, 1, msg);
  });
});

describe("golden packages: from the guest profiles", () => {
  it("every package a built-in workload installs is in its profile's golden list, with the agent and cloud-init", () => {
    for (const os of GUEST_OS_NAMES) {
      const profile = guestProfile(os);
      const golden = goldenPackages(profile);
      assert.equal(new Set(golden).size, golden.length, `${os}: no repeats`);
      for (const p of ["qemu-guest-agent", "cloud-init", ...workloadPackages(profile)])
        assert.ok(golden.includes(p), `${os}: ${p}`);
      const docs = userData({
        workloads: BUILTINS,
        "guest-os": os,
        "container-disk-image": GOLDEN.replace("fedora", os),
      });
      for (const [name, doc] of docs)
        for (const p of (doc.packages ?? []) as string[])
          assert.ok(golden.includes(p), `${os} ${name}: ${p}`);
    }
  });
});
