import { intRange, oneOfValues } from "../params.ts";
import { vcpuBusy } from "../signals.ts";
import { enableNow, renderUnit, UNIT_DIR } from "../systemd.ts";
import type { Workload } from "../types.ts";

const UNIT = "virtwork-chaos-process.service";
const SCRIPT = "/usr/local/bin/chaos-process.sh";

/** Process names (ps comm) that are never signalled; matched whole, not as substrings. */
export const EXCLUDED_PROCESSES = [
  "systemd",
  "systemd-.*",
  "\\(sd-pam\\)",
  "sshd",
  "sshd-session",
  "dbus-.*",
  "dbus",
  "agetty",
  "auditd",
  "rsyslogd",
  "chronyd",
  "NetworkManager",
  "bash",
  "sh",
  "cloud-init",
  "qemu-ga",
  "virtwork-.*",
  "chaos-process.*",
  // The script's own process listing: it shows up in its own output and is gone by the
  // time it would be signalled (found by test/guest/artifacts/chaos-process.test.ts).
  "ps",
];

const SCRIPT_CONTENT = `#!/bin/bash
# Sends a signal to one random eligible process every interval.
set -euo pipefail

SIGNAL="\${CHAOS_SIGNAL:-SIGTERM}"
INTERVAL="\${CHAOS_INTERVAL:-30}"
MIN_PID="\${CHAOS_MIN_PID:-1000}"
EXCLUDE='^(${EXCLUDED_PROCESSES.join("|")})$'

log() {
  echo "[$(date '+%Y-%m-%d %H:%M:%S')] $*"
}

log "Starting chaos-process workload"
log "Configuration: signal=$SIGNAL interval=\${INTERVAL}s min_pid=$MIN_PID"

while true; do
  candidates=()
  while read -r pid comm; do
    [ "$pid" -ge "$MIN_PID" ] || continue
    [ "$pid" -ne "$$" ] || continue
    [ "$pid" -ne "$PPID" ] || continue
    if [[ "$comm" =~ $EXCLUDE ]]; then
      continue
    fi
    candidates+=("$pid")
  done < <(ps -eo pid=,comm=)

  if [ "\${#candidates[@]}" -eq 0 ]; then
    log "No eligible processes found for chaos action"
  else
    target="\${candidates[RANDOM % \${#candidates[@]}]}"
    details="$(ps -o pid=,comm=,args= -p "$target" || true)"
    log "Sending $SIGNAL to PID $target: $details"
    if kill -s "\${SIGNAL#SIG}" "$target" 2>/dev/null; then
      log "Successfully sent $SIGNAL to PID $target"
    else
      log "Failed to send $SIGNAL to PID $target"
    fi
  fi
  sleep "$INTERVAL"
done
`;

const SIGNALS = [
  "SIGTERM",
  "SIGKILL",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGSTOP",
  "SIGCONT",
  "SIGABRT",
];

export const chaosProcess: Workload = {
  name: "chaos-process",
  description: "Chaos: signals a random non-system process at a fixed interval (opt-in)",
  optIn: true,
  params: [
    {
      name: "signal",
      type: "string",
      default: "SIGTERM",
      description: `Signal to send: ${SIGNALS.join(", ")}`,
      check: oneOfValues(SIGNALS, "a signal name"),
    },
    {
      name: "interval",
      type: "int",
      default: "30",
      description: "Seconds between signals",
      check: intRange(1),
    },
    {
      name: "min-pid",
      type: "int",
      default: "1000",
      description: "Lowest PID that may be signalled",
      check: intRange(2),
    },
  ],
  // Killing a random process every interval leaves no KubeVirt-visible trace of its own; the
  // signal is that the guest survives it: its vCPUs keep accumulating time.
  signals: [vcpuBusy(0.001, "the guest keeps running while processes are killed")],
  build: ({ params, guest }) => ({
    roles: [
      {
        guest: {
          packages: [guest.packages.procps],
          files: [
            { path: SCRIPT, permissions: "0755", content: SCRIPT_CONTENT },
            {
              path: `${UNIT_DIR}/${UNIT}`,
              permissions: "0644",
              content: renderUnit({
                unit: [
                  ["Description", "Virtwork chaos-process workload"],
                  ["After", "network.target"],
                ],
                service: [
                  ["Type", "simple"],
                  ["Environment", `"CHAOS_SIGNAL=${params.signal}"`],
                  ["Environment", `"CHAOS_INTERVAL=${params.interval}"`],
                  ["Environment", `"CHAOS_MIN_PID=${params["min-pid"]}"`],
                  ["ExecStart", SCRIPT],
                  ["Restart", "always"],
                  ["RestartSec", 10],
                  ["StandardOutput", "journal"],
                  ["StandardError", "journal"],
                ],
              }),
            },
          ],
          runcmd: enableNow(UNIT),
        },
      },
    ],
    dataDisks: [],
  }),
  // Wakes up every interval to pick and signal a process.
  cpuDemand: () => 100,
};
