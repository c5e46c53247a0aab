/**
 * The readiness probe of the planned VM, run in a booted guest the way KubeVirt runs an exec
 * probe: its `command` through the guest agent's guest-exec (path = command[0], arg = the
 * rest), the exit status polled with guest-exec-status, exit 0 = ready. It must pass while the
 * workload's units are active, fail once one of them is stopped, and pass again when it is
 * started again (the guest is left as it was).
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../../src/log/logger.ts";
import type { VirtualMachine } from "../../../src/manifests/objects.ts";
import { prepareRun } from "../../../src/plan/prepare.ts";
import { GUEST_OS, sh, until } from "./cases.ts";
import type { Vm } from "./qemu.ts";

/** The exec probe KubeVirt gets for the first VM of `workload` (and `role`), planned for debian. */
export function plannedProbe(workload: string, params: Record<string, string>, role?: string): string[] {
  const { plan } = prepareRun({
    flags: {
      workloads: [workload],
      params: Object.entries(params).map(([k, v]) => `${workload}.${k}=${v}`),
      "guest-os": GUEST_OS,
    },
    env: {},
    logger: silentLogger,
    runId: "00000000-0000-4000-8000-00000000b008",
  });
  const planned = plan.vms.find((v) => v.workload === workload && v.role === role);
  assert.ok(planned, `a planned VM of ${workload}${role ? ` role ${role}` : ""}`);
  const vm = plan.objects.find(
    (o): o is VirtualMachine => o.kind === "VirtualMachine" && o.metadata?.name === planned.name,
  );
  const command = vm?.spec?.template.spec?.readinessProbe?.exec?.command;
  assert.ok(command?.length, `${planned.name} has an exec readiness probe`);
  return command;
}

async function probe(vm: Vm, command: string[]): Promise<number> {
  return (await vm.agent.exec(command, 30_000)).code;
}

/** Probe passes → `systemctl stop` of `unit` → probe fails → start again → probe passes. */
export async function checkReadinessProbe(
  vm: Vm,
  command: string[],
  unit: string,
  log: (m: string) => void,
): Promise<void> {
  const passing = await probe(vm, command);
  log(`readiness probe [${command.join(" ")}] with ${unit} active: exit ${passing}`);
  assert.equal(passing, 0, `the readiness probe passes while ${unit} is active`);
  await sh(vm, `systemctl stop ${unit}`);
  const failing = await probe(vm, command);
  log(`readiness probe [${command.join(" ")}] after systemctl stop ${unit}: exit ${failing}`);
  assert.notEqual(failing, 0, `the readiness probe fails once ${unit} is stopped`);
  await sh(vm, `systemctl start ${unit}`);
  const again = await until(`the probe to pass after starting ${unit}`, 60, async () =>
    (await probe(vm, command)) === 0 ? 0 : undefined,
  );
  log(`readiness probe after systemctl start ${unit}: exit ${again}`);
}
