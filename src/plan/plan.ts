import { MAX_USERDATA_BYTES, renderCloudConfig } from "../cloudinit/cloud-config.ts";
import type { GuestConfig } from "../cloudinit/guest-config.ts";
import type { Config } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import type { ReadinessProbe } from "../manifests/inputs.ts";
import { runLabels, workloadLabels } from "../manifests/labels.ts";
import { cloudInitSecretName, dataVolumeName, dns1123LabelProblem, vmName } from "../manifests/names.ts";
import {
  cloudInitSecret,
  type KubeObject,
  namespaceObject,
  type Secret,
  type Service,
  type VirtualMachine,
  virtualMachine,
  workloadService,
} from "../manifests/objects.ts";
import { forGoldenImage, goldenProfile } from "../workloads/golden.ts";
import { fedora, type GuestProfile } from "../workloads/guest.ts";
import { guestReadiness, withReadiness } from "../workloads/readiness.ts";
import type { Registry } from "../workloads/registry.ts";
import { unitsStartedBy } from "../workloads/systemd.ts";
import { guestOf, type Workload } from "../workloads/types.ts";

export interface PlannedVm {
  name: string;
  workload: string;
  role?: string;
  secretName: string;
  dataVolumes: string[];
}

export interface PlannedWorkload {
  name: string;
  vms: number;
  /** VMs per role for multi-role workloads. */
  roles: Record<string, number>;
}

/** Everything a run creates, in creation order, as plain objects (design §1). */
export interface Plan {
  runId: string;
  namespace: string;
  objects: KubeObject[];
  vms: PlannedVm[];
  workloads: PlannedWorkload[];
}

export interface PlanOptions {
  runId: string;
  guest?: GuestProfile;
}

/** Smallest CPU request planned from a workload's demand: an idle guest still needs some. */
const MIN_CPU_MILLIS = 100;

/** The CPU request of one VM of `workload`: the setting, or what the workload keeps busy. */
export function cpuRequestOf(
  workload: Workload,
  setting: string,
  params: Readonly<Record<string, string>>,
  cpuCores: number,
): string | undefined {
  if (setting === "none") return undefined;
  if (setting !== "auto") return setting;
  if (!workload.cpuDemand) return undefined;
  const demand = workload.cpuDemand(params, cpuCores);
  const millis = Math.min(cpuCores * 1000, Math.max(MIN_CPU_MILLIS, Math.round(demand / 100) * 100));
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Builds the plan. Pure: no I/O, no clock; the run id comes in. */
export function plan(config: Config, registry: Registry, options: PlanOptions): Plan {
  const { runId } = options;
  const profile = options.guest ?? fedora;
  // A golden image holds the packages and sch_netem: no install step at boot (workloads/golden.ts).
  const guest = config.goldenImage ? goldenProfile(profile) : profile;
  // A golden image holds the packages already (the guest agent included): install none of them.
  const forImage = (c: GuestConfig): GuestConfig => (config.goldenImage ? forGoldenImage(c, profile) : c);
  const services: Service[] = [];
  const secrets: Secret[] = [];
  const machines: VirtualMachine[] = [];
  const vms: PlannedVm[] = [];
  const workloads: PlannedWorkload[] = [];

  for (const selected of config.workloads) {
    const workload = registry.get(selected.name);
    if (!workload) throw new UsageError(`unknown workload "${selected.name}"`);
    const output = workload.build({ namespace: config.namespace, params: selected.params, guest });
    const planned: PlannedWorkload = { name: workload.name, vms: 0, roles: {} };
    if (output.service) {
      services.push(
        workloadService(
          output.service,
          config.namespace,
          workload.name,
          workloadLabels(runId, workload.name),
        ),
      );
    }
    const perVmDns = output.service?.perVmDns ? output.service : undefined;
    const cpuRequest = cpuRequestOf(workload, selected.cpuRequest, selected.params, selected.cpuCores);
    const grace = selected.terminationGracePeriodSeconds ?? workload.terminationGracePeriodSeconds;
    for (const roleOutput of output.roles) {
      const { role, vmCount: roleVmCount } = roleOutput;
      const where = `workload "${workload.name}"${role ? ` role "${role}"` : ""}`;
      let shared: { userdata: string; probe: ReadinessProbe } | undefined;
      const guestOfVm = (index: number): { userdata: string; probe: ReadinessProbe } => {
        if (shared !== undefined) return shared;
        const own = guestOf(roleOutput, index);
        // The probe checks the units this very runcmd starts: one list, read back from it.
        const units = unitsStartedBy(own.runcmd);
        if (units.length === 0) {
          throw new Error(
            `${where}: starts no systemd unit (enableNow in its runcmd), so its readiness probe has nothing to check`,
          );
        }
        const readiness = guestReadiness(guest, units);
        const text = renderCloudConfig(forImage(withReadiness(own, readiness)), config.ssh);
        const size = Buffer.byteLength(text);
        if (size > MAX_USERDATA_BYTES) {
          throw new UsageError(
            `${where}: cloud-init user-data is ${size} bytes, over the 1 MiB Secret limit; shorten params or SSH keys`,
          );
        }
        const out = { userdata: text, probe: readiness.probe };
        // Roles whose VMs share one config render it once (1000 VMs plan in milliseconds).
        if (typeof roleOutput.guest !== "function") shared = out;
        return out;
      };
      const dataDisks = output.dataDisks.filter(
        (d) => d.roles === undefined || (role !== undefined && d.roles.includes(role)),
      );
      const backsService =
        perVmDns !== undefined && (perVmDns.selectorRole === undefined || perVmDns.selectorRole === role);
      const count =
        roleVmCount !== undefined && roleVmCount > 0 ? roleVmCount : Math.max(1, selected.vmCount);
      for (let i = 0; i < count; i++) {
        const name = vmName(workload.name, i, role);
        const problem = dns1123LabelProblem(name);
        if (problem) throw new UsageError(`VM name "${name}" (workload "${workload.name}"): ${problem}`);
        const { userdata, probe } = guestOfVm(i);
        const secretName = cloudInitSecretName(name);
        const labels = workloadLabels(runId, workload.name, role);
        secrets.push(
          cloudInitSecret(secretName, config.namespace, workloadLabels(runId, workload.name), userdata),
        );
        const vmInput = {
          name,
          namespace: config.namespace,
          labels,
          cpuCores: selected.cpuCores,
          memory: selected.memory,
          image: config.containerDiskImage,
          secretName,
          dataDisks,
          diskSize: config.diskSize,
          rng: config.rng,
          ...(config.storageClass ? { storageClass: config.storageClass } : {}),
          ...(config.evictionStrategy !== "cluster" ? { evictionStrategy: config.evictionStrategy } : {}),
          ...(cpuRequest ? { cpuRequest } : {}),
          ...(grace !== undefined ? { terminationGracePeriodSeconds: grace } : {}),
          ...(backsService ? { subdomain: perVmDns.name } : {}),
          readinessProbe: probe,
        };
        machines.push(virtualMachine(vmInput));
        const vm: PlannedVm = {
          name,
          workload: workload.name,
          secretName,
          dataVolumes: dataDisks.map((d) => dataVolumeName(d.dataVolumeBase, name)),
        };
        for (const dv of vm.dataVolumes) {
          const dvProblem = dns1123LabelProblem(dv);
          if (dvProblem)
            throw new UsageError(`DataVolume name "${dv}" (workload "${workload.name}"): ${dvProblem}`);
        }
        if (role !== undefined) {
          vm.role = role;
          planned.roles[role] = (planned.roles[role] ?? 0) + 1;
        }
        vms.push(vm);
        planned.vms++;
      }
    }
    workloads.push(planned);
  }

  const objects: KubeObject[] = [
    namespaceObject(config.namespace, runLabels(runId)),
    ...services,
    ...secrets,
    ...machines,
  ];
  return { runId, namespace: config.namespace, objects, vms, workloads };
}
