/**
 * Guest-level readiness (design §3 "Readiness"): each VM's KubeVirt readiness probe runs
 * `systemctl is-active --quiet <the workload's units>` in the guest through the QEMU guest
 * agent (KubeVirt's exec probe: virt-probe → guest-exec + guest-exec-status), and the guest
 * gets what that needs: the agent installed and running, and on RHEL-family guests exactly
 * guest-exec opened for the probe.
 */
import type { GuestConfig, GuestFile } from "../cloudinit/guest-config.ts";
import type { ReadinessProbe } from "../manifests/inputs.ts";
import type { GuestProfile } from "./guest.ts";
import { UNIT_NAME } from "./systemd.ts";

const SYSTEMCTL = "/usr/bin/systemctl";
const LIBEXEC = "/usr/local/libexec/virtwork";
/** RHEL family: the probe's program, the only one the agent runs outside its SELinux domain. */
export const PROBE_HELPER = `${LIBEXEC}/readiness-probe`;
/** RHEL family: lets the agent run guest-exec for the probe helper (see agentSetupScript). */
export const AGENT_SETUP = `${LIBEXEC}/guest-agent-setup`;

/**
 * Timings for guests that first boot under load (TCG, package installs at first boot): probing
 * before cloud-init can have started a unit is wasted guest-exec; a unit that restarts
 * (Restart=always, RestartSec=10) must not make the VM flap, so not-ready needs 4 failures in a
 * row (a minute); Ready comes at the first success.
 */
const TIMINGS = {
  initialDelaySeconds: 30,
  periodSeconds: 15,
  // guest-exec forks in the guest; under TCG and a busy host that alone takes seconds.
  timeoutSeconds: 10,
  failureThreshold: 4,
  successThreshold: 1,
} as const;

export interface GuestReadiness {
  /** What cloud-init adds to the workload's own config: the agent and its setup. */
  setup: GuestConfig;
  probe: ReadinessProbe;
}

/** The argv that says whether every unit is active (exit 0) or not (non-zero). */
export function isActiveCommand(units: readonly string[]): string[] {
  return [SYSTEMCTL, "is-active", "--quiet", ...units];
}

/**
 * The readiness of a VM whose cloud-init starts `units` (read from its runcmd), on `guest`.
 * Unit names come from workloads and catalog entries (checked there); they are checked again
 * here because they end up in a probe command and, on RHEL-family guests, in a script.
 */
export function guestReadiness(guest: GuestProfile, units: readonly string[]): GuestReadiness {
  if (units.length === 0) throw new Error("a workload VM starts no unit: nothing for its readiness probe");
  for (const unit of units) {
    if (!UNIT_NAME.test(unit))
      throw new Error(`unit name "${unit}" cannot be checked by the readiness probe`);
  }
  const agent = guest.guestAgent;
  const start = ["systemctl", "enable", "--now", agent.unit];
  if (!agent.confined) {
    return {
      setup: { packages: [agent.package], files: [], runcmd: [start] },
      probe: { exec: { command: isActiveCommand(units) }, ...TIMINGS },
    };
  }
  const helper: GuestFile = {
    path: PROBE_HELPER,
    permissions: "0755",
    content: `#!/bin/sh
# virtwork's readiness probe, run by KubeVirt through the QEMU guest agent: exit 0 when every
# unit of the workload is active.
exec ${isActiveCommand(units)
      .map((a) => `'${a}'`)
      .join(" ")}
`,
  };
  return {
    setup: {
      packages: [agent.package],
      files: [helper, { path: AGENT_SETUP, permissions: "0755", content: agentSetupScript(agent.unit) }],
      runcmd: [start, [AGENT_SETUP]],
    },
    probe: { exec: { command: [PROBE_HELPER] }, ...TIMINGS },
  };
}

/**
 * RHEL family (Fedora, CentOS Stream, RHEL): the agent ships with guest-exec refused by the
 * RPC filter in /etc/sysconfig/qemu-ga (an `--allow-rpcs=` list since RHEL 9.3's qemu 8.1, a
 * block list before: `--block-rpcs=`, `BLOCK_RPCS`, `BLACKLIST_RPC`), and under SELinux what it
 * runs stays in virt_qemu_ga_t, where `systemctl` is denied. The script allows exactly
 * guest-exec and guest-exec-status, and lets only the probe helper leave the agent's domain:
 * the helper is labelled virt_qemu_ga_unconfined_exec_t, which the policy runs unconfined when
 * the boolean virt_qemu_ga_run_unconfined is on. Then the agent restarts with its new filter.
 */
function agentSetupScript(unit: string): string {
  return `#!/bin/bash
# Lets the QEMU guest agent run virtwork's readiness probe, and nothing more.
set -euo pipefail
conf=/etc/sysconfig/qemu-ga
rpcs="guest-exec guest-exec-status"

# add LIST: the comma-separated LIST with every probe RPC in it.
add() {
  local list=$1 rpc
  for rpc in $rpcs; do
    case ",$list," in
      *",$rpc,"*) ;;
      *) list="\${list:+$list,}$rpc" ;;
    esac
  done
  printf '%s' "$list"
}

# remove LIST: the comma-separated LIST without the probe RPCs.
remove() {
  local out="" item rpc keep
  local -a items
  IFS=, read -r -a items <<<"$1"
  for item in "\${items[@]}"; do
    keep=1
    for rpc in $rpcs; do [ "$item" = "$rpc" ] && keep=0; done
    [ "$keep" = 1 ] && [ -n "$item" ] && out="\${out:+$out,}$item"
  done
  printf '%s' "$out"
}

if [ -f "$conf" ]; then
  for var in FILTER_RPC_ARGS BLOCK_RPCS BLACKLIST_RPC; do
    line=$(grep -E "^$var=" "$conf" | tail -n 1) || continue
    value=\${line#*=}
    value=\${value#\\"}
    value=\${value%\\"}
    case "$value" in
      --allow-rpcs=*) new="--allow-rpcs=$(add "\${value#--allow-rpcs=}")" ;;
      --block-rpcs=* | --blacklist=*) new="\${value%%=*}=$(remove "\${value#*=}")" ;;
      -*) continue ;;
      *) new=$(remove "$value") ;;
    esac
    sed -i "s|^$var=.*|$var=\\"$new\\"|" "$conf"
  done
fi

if command -v selinuxenabled >/dev/null && selinuxenabled; then
  chcon -t virt_qemu_ga_unconfined_exec_t ${PROBE_HELPER}
  setsebool -P virt_qemu_ga_run_unconfined on
fi

systemctl restart ${unit}
`;
}

/** The workload's guest config with the agent setup: agent first, so the probe can answer early. */
export function withReadiness(config: GuestConfig, readiness: GuestReadiness): GuestConfig {
  return {
    packages: [...readiness.setup.packages, ...config.packages],
    files: [...config.files, ...readiness.setup.files],
    runcmd: [...readiness.setup.runcmd, ...config.runcmd],
  };
}
