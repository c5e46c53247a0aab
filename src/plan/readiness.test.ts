/**
 * Guest-level readiness in the plan: every planned VM carries a KubeVirt exec readiness
 * probe through the guest agent whose units are exactly the ones its cloud-init starts (read
 * from the parsed user-data, not from the code that built it), and every guest profile installs
 * and enables the agent; RHEL-family guests also open guest-exec for the probe, and only that.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { silentLogger } from "../log/logger.ts";
import type { Secret, VirtualMachine } from "../manifests/objects.ts";
import { GUEST_OS_NAMES, guestProfile } from "../workloads/guest.ts";
import { AGENT_SETUP, guestReadiness, PROBE_HELPER } from "../workloads/readiness.ts";
import { prepareRun } from "./prepare.ts";

const CATALOG = fileURLToPath(new URL("../../catalog", import.meta.url));
const AGENT = "qemu-guest-agent.service";

interface UserData {
  packages?: string[];
  write_files?: { path: string; content: string; permissions: string }[];
  runcmd?: string[][];
}

interface PlannedGuest {
  vm: string;
  userData: UserData;
  probe: NonNullable<NonNullable<NonNullable<VirtualMachine["spec"]>["template"]["spec"]>["readinessProbe"]>;
}

function plannedGuests(guestOs: string): PlannedGuest[] {
  const { plan } = prepareRun({
    flags: {
      workloads: ["all"],
      "from-catalog": ["http-bench", "redis-bench", "sysbench"],
      "guest-os": guestOs,
      "catalog-dir": CATALOG,
    },
    env: {},
    logger: silentLogger,
    runId: "00000000-0000-4000-8000-0000000000a1",
  });
  const secrets = new Map(
    plan.objects.filter((o): o is Secret => o.kind === "Secret").map((s) => [s.metadata?.name, s]),
  );
  return plan.objects
    .filter((o): o is VirtualMachine => o.kind === "VirtualMachine")
    .map((vm) => {
      const spec = vm.spec?.template.spec;
      const secretName = spec?.volumes?.find((v) => v.cloudInitNoCloud)?.cloudInitNoCloud?.secretRef?.name;
      const text = secrets.get(secretName)?.stringData?.userdata ?? "";
      assert.match(text, /^#cloud-config\n/);
      assert.ok(spec?.readinessProbe, `${vm.metadata?.name} has a readiness probe`);
      return { vm: vm.metadata?.name ?? "", userData: parse(text) as UserData, probe: spec.readinessProbe };
    });
}

/** What cloud-init starts: the units of the `systemctl enable --now` runcmd entries. */
const startedUnits = (u: UserData) =>
  (u.runcmd ?? []).filter((a) => a.slice(0, 3).join(" ") === "systemctl enable --now").map((a) => a[3]);

/** The argv of a `exec '…' '…'` line of a generated /bin/sh script. */
function execArgv(script: string): string[] {
  const line = script.split("\n").find((l) => l.startsWith("exec "));
  assert.ok(line, "the helper ends in exec");
  return [...line.slice(5).matchAll(/'([^']*)'/g)].map((m) => m[1] as string);
}

describe("readiness probe of every planned VM", () => {
  for (const guestOs of GUEST_OS_NAMES) {
    const profile = guestProfile(guestOs);
    it(`${guestOs}: an exec probe through the agent of exactly the units cloud-init starts`, () => {
      const guests = plannedGuests(guestOs);
      assert.equal(guests.length, 16, "11 built-in + 5 catalog VMs");
      for (const { vm, userData, probe } of guests) {
        const started = startedUnits(userData);
        assert.equal(started[0], AGENT, `${vm}: the agent is enabled and started first`);
        assert.ok(userData.packages?.includes("qemu-guest-agent"), `${vm}: the agent is installed`);
        const units = started.filter((u) => u !== AGENT);
        assert.ok(units.length >= 1, `${vm}: starts a workload unit`);
        const files = new Set((userData.write_files ?? []).map((f) => f.path));
        for (const u of units) assert.ok(files.has(`/etc/systemd/system/${u}`), `${vm}: ${u} is written`);

        const command = probe.exec?.command ?? [];
        const checked = profile.guestAgent.confined
          ? (() => {
              assert.deepEqual(command, [PROBE_HELPER], `${vm}: the probe runs the helper`);
              const helper = userData.write_files?.find((f) => f.path === PROBE_HELPER);
              assert.ok(helper, `${vm}: the helper is written`);
              assert.equal(helper.permissions, "0755");
              return execArgv(helper.content);
            })()
          : command;
        assert.deepEqual(checked, ["/usr/bin/systemctl", "is-active", "--quiet", ...units], vm);
        assert.equal(probe.guestAgentPing, undefined);
        assert.ok((probe.timeoutSeconds ?? 1) < (probe.periodSeconds ?? 10), "a probe ends before the next");
        assert.ok(
          (probe.failureThreshold ?? 3) * (probe.periodSeconds ?? 10) >= 45,
          "a unit restart does not flap",
        );
      }
    });
  }

  it("each role probes its own units: the tps server both of its servers", () => {
    const byVm = (os: string) =>
      new Map(plannedGuests(os).map((g) => [g.vm, g.probe.exec?.command?.slice(3)]));
    const ubuntu = byVm("ubuntu");
    assert.deepEqual(ubuntu.get("virtwork-tps-server-0"), [
      "virtwork-tps-http.service",
      "virtwork-tps-netserver.service",
    ]);
    assert.deepEqual(ubuntu.get("virtwork-tps-client-0"), ["virtwork-tps.service"]);
    assert.deepEqual(ubuntu.get("virtwork-network-server-0"), ["virtwork-network.service"]);
    // Debian has no netperf: its tps server runs (and is probed for) the HTTP server only.
    assert.deepEqual(byVm("debian").get("virtwork-tps-server-0"), ["virtwork-tps-http.service"]);
  });

  it("RHEL-family guests open guest-exec for the probe; Debian-family guests change nothing", () => {
    for (const guestOs of GUEST_OS_NAMES) {
      const { userData } = plannedGuests(guestOs)[0] as PlannedGuest;
      const setup = userData.write_files?.find((f) => f.path === AGENT_SETUP);
      const runsSetup = (userData.runcmd ?? []).some((a) => a.length === 1 && a[0] === AGENT_SETUP);
      if (!guestProfile(guestOs).guestAgent.confined) {
        assert.equal(setup, undefined, guestOs);
        assert.equal(runsSetup, false, guestOs);
        continue;
      }
      assert.ok(setup && runsSetup, `${guestOs}: the agent setup is written and run`);
      assert.match(
        setup.content,
        /chcon -t virt_qemu_ga_unconfined_exec_t \/usr\/local\/libexec\/virtwork\/readiness-probe/,
      );
      assert.match(setup.content, /setsebool -P virt_qemu_ga_run_unconfined on/);
      assert.match(setup.content, /systemctl restart qemu-guest-agent\.service/);
    }
  });

  it("a unit name that is not a plain systemd name is refused", () => {
    for (const bad of ["a b.service", "x;reboot.service", "'q'.service", "-x.service", "noext"]) {
      assert.throws(() => guestReadiness(guestProfile("debian"), [bad]), /cannot be checked/, bad);
    }
    assert.throws(() => guestReadiness(guestProfile("debian"), []), /starts no unit/);
  });
});

/**
 * The RPC-filter edit of the RHEL-family setup script, run by bash on the agent
 * configurations Fedora/RHEL have shipped (the SELinux and restart tail is cut off: it needs
 * the guest).
 */
describe("the RHEL-family agent setup edits /etc/sysconfig/qemu-ga", () => {
  const setup = guestReadiness(guestProfile("fedora"), ["virtwork-cpu.service"]).setup.files.find(
    (f) => f.path === AGENT_SETUP,
  );
  const RHEL9 =
    "guest-sync-delimited,guest-sync,guest-ping,guest-get-time,guest-info,guest-shutdown,guest-fsfreeze-status";
  const cases: { name: string; before: string; after: string }[] = [
    {
      name: "RHEL 9.3+ allow list: guest-exec and guest-exec-status are added",
      before: `# comment\nFILTER_RPC_ARGS="--allow-rpcs=${RHEL9}"\nFSFREEZE_HOOK_PATHNAME=/etc/qemu-ga/fsfreeze-hook\n`,
      after: `# comment\nFILTER_RPC_ARGS="--allow-rpcs=${RHEL9},guest-exec,guest-exec-status"\nFSFREEZE_HOOK_PATHNAME=/etc/qemu-ga/fsfreeze-hook\n`,
    },
    {
      name: "allow list that has them already: unchanged",
      before: `FILTER_RPC_ARGS="--allow-rpcs=guest-ping,guest-exec,guest-exec-status"\n`,
      after: `FILTER_RPC_ARGS="--allow-rpcs=guest-ping,guest-exec,guest-exec-status"\n`,
    },
    {
      name: "block list (--block-rpcs): only the two leave it",
      before: `FILTER_RPC_ARGS="--block-rpcs=guest-file-open,guest-exec,guest-file-read,guest-exec-status"\n`,
      after: `FILTER_RPC_ARGS="--block-rpcs=guest-file-open,guest-file-read"\n`,
    },
    {
      name: "older BLOCK_RPCS / BLACKLIST_RPC lists",
      before: `BLOCK_RPCS=guest-file-open,guest-exec,guest-exec-status\nBLACKLIST_RPC="guest-exec-status,guest-exec"\n`,
      after: `BLOCK_RPCS="guest-file-open"\nBLACKLIST_RPC=""\n`,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.ok(setup);
      const dir = mkdtempSync(join(tmpdir(), "virtwork-qga-"));
      try {
        const conf = join(dir, "qemu-ga");
        writeFileSync(conf, c.before);
        const script = setup.content
          .replace("conf=/etc/sysconfig/qemu-ga", `conf=${conf}`)
          .replace(/\nif command -v selinuxenabled[\s\S]*$/, "\n");
        assert.notEqual(script, setup.content);
        const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(readFileSync(conf, "utf8"), c.after);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
