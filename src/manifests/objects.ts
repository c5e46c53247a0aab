import type {
  IoK8sApiCoreV1Namespace,
  IoK8sApiCoreV1Secret,
  IoK8sApiCoreV1Service,
} from "@kubevirt-ui-ext/kubevirt-api/kubernetes";
import type { V1VirtualMachine } from "@kubevirt-ui-ext/kubevirt-api/kubevirt";
import type { Quantity } from "../util/quantity.ts";
import type { DataDisk, ReadinessProbe, ServiceSpec } from "./inputs.ts";
import { LABEL_COMPONENT, LABEL_ROLE, type Labels } from "./labels.ts";
import { dataVolumeName } from "./names.ts";

export type Namespace = IoK8sApiCoreV1Namespace & { apiVersion: "v1"; kind: "Namespace" };
export type Secret = IoK8sApiCoreV1Secret & { apiVersion: "v1"; kind: "Secret" };
export type Service = IoK8sApiCoreV1Service & { apiVersion: "v1"; kind: "Service" };
export type VirtualMachine = V1VirtualMachine & { apiVersion: "kubevirt.io/v1"; kind: "VirtualMachine" };
export type KubeObject = Namespace | Secret | Service | VirtualMachine;

export function namespaceObject(name: string, labels: Labels): Namespace {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

export function cloudInitSecret(name: string, namespace: string, labels: Labels, userdata: string): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace, labels },
    type: "Opaque",
    stringData: { userdata },
  };
}

/**
 * Service whose selector is scoped to its workload and role (fixes reference bug 9). With
 * `perVmDns` it is headless: it load-balances nothing and gives each backing VM its own DNS
 * name, published before the VM is ready so a client can wait for its server by name.
 */
export function workloadService(
  spec: ServiceSpec,
  namespace: string,
  workload: string,
  labels: Labels,
): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: spec.name, namespace, labels },
    spec: {
      ...(spec.perVmDns ? { clusterIP: "None", publishNotReadyAddresses: true } : {}),
      selector: {
        [LABEL_COMPONENT]: workload,
        ...(spec.selectorRole === undefined ? {} : { [LABEL_ROLE]: spec.selectorRole }),
      },
      // targetPort is left out: the API server defaults it to `port`, which is what we want.
      ports: spec.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? "TCP" })),
    },
  };
}

export interface VirtualMachineInput {
  name: string;
  namespace: string;
  labels: Labels;
  cpuCores: number;
  memory: Quantity;
  image: string;
  secretName: string;
  dataDisks: DataDisk[];
  diskSize: Quantity;
  storageClass?: string;
  /** Omitted → the cluster's (KubeVirt's default for VMs is then LiveMigrate on most clusters). */
  evictionStrategy?: string;
  /** CPU quantity; omitted → KubeVirt derives the request from its CPU allocation ratio. */
  cpuRequest?: string;
  /** A virtio-rng device; absent → none. */
  rng?: boolean;
  terminationGracePeriodSeconds?: number;
  /** The VM's DNS name behind a headless Service: hostname is the VM name. */
  subdomain?: string;
  /** Through the guest agent: the workload's units are active (workloads/readiness.ts). */
  readinessProbe?: ReadinessProbe;
}

/**
 * The VirtualMachine shape of reference §4.1, with `runStrategy: Always` and labelled DVs,
 * plus what a shared cluster needs (README "VM shape"): eviction strategy, CPU request, rng,
 * grace period, and guest memory in `domain.memory.guest`.
 */
export function virtualMachine(input: VirtualMachineInput): VirtualMachine {
  const dataVolumes = input.dataDisks.map((d) => ({
    disk: d,
    dvName: dataVolumeName(d.dataVolumeBase, input.name),
  }));
  const vm: VirtualMachine = {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: input.name, namespace: input.namespace, labels: input.labels },
    spec: {
      runStrategy: "Always",
      template: {
        metadata: { labels: input.labels },
        spec: {
          ...(input.evictionStrategy ? { evictionStrategy: input.evictionStrategy } : {}),
          ...(input.terminationGracePeriodSeconds !== undefined
            ? { terminationGracePeriodSeconds: input.terminationGracePeriodSeconds }
            : {}),
          ...(input.subdomain ? { hostname: input.name, subdomain: input.subdomain } : {}),
          domain: {
            cpu: { cores: input.cpuCores },
            // The guest sees exactly this; KubeVirt sizes the pod's memory request from it plus
            // its own overhead (resources.requests.memory would be the older, coupled form).
            memory: { guest: input.memory.text },
            ...(input.cpuRequest ? { resources: { requests: { cpu: input.cpuRequest } } } : {}),
            devices: {
              disks: [
                { name: "containerdisk", disk: { bus: "virtio" } },
                { name: "cloudinitdisk", disk: { bus: "virtio" } },
                ...dataVolumes.map(({ disk }) => ({
                  name: disk.name,
                  serial: disk.serial,
                  disk: { bus: "virtio" },
                })),
              ],
              interfaces: [{ name: "default", masquerade: {} }],
              ...(input.rng ? { rng: {} } : {}),
            },
          },
          networks: [{ name: "default", pod: {} }],
          ...(input.readinessProbe ? { readinessProbe: input.readinessProbe } : {}),
          volumes: [
            { name: "containerdisk", containerDisk: { image: input.image } },
            { name: "cloudinitdisk", cloudInitNoCloud: { secretRef: { name: input.secretName } } },
            ...dataVolumes.map(({ disk, dvName }) => ({ name: disk.name, dataVolume: { name: dvName } })),
          ],
        },
      },
    },
  };
  if (dataVolumes.length && vm.spec) {
    vm.spec.dataVolumeTemplates = dataVolumes.map(({ disk, dvName }) => ({
      metadata: { name: dvName, labels: input.labels },
      spec: {
        source: { blank: {} },
        storage: {
          resources: { requests: { storage: disk.size ?? input.diskSize.text } },
          ...(input.storageClass ? { storageClassName: input.storageClass } : {}),
        },
      },
    }));
  }
  return vm;
}
