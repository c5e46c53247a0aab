/**
 * Objects shaped like the ones virtwork creates (design.md §3 "VirtualMachine shape"):
 * containerDisk boot volume, cloud-init NoCloud from a Secret, masquerade pod network, virtio
 * data disks with a serial, blank CDI DataVolume templates using the `storage` API.
 */
export interface VMFixtureInput {
  /** memory request (default 2Gi); more than a fake node has makes the VM unschedulable */
  memory?: string;
  name: string;
  namespace: string;
  storageClass?: string;
  dataDisks?: number;
  annotations?: Record<string, string>;
  runStrategy?: string;
}

export const LABELS = {
  "app.kubernetes.io/name": "virtwork",
  "app.kubernetes.io/managed-by": "virtwork",
  "app.kubernetes.io/component": "disk",
  "virtwork/run-id": "00000000-0000-4000-8000-000000000001",
};

export function cloudInitSecret(name: string, namespace: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace, labels: LABELS },
    type: "Opaque",
    stringData: { userdata: "#cloud-config\nruncmd:\n  - [systemctl, start, virtwork-disk.service]\n" },
  };
}

export function virtualMachine(input: VMFixtureInput) {
  const disks = Array.from({ length: input.dataDisks ?? 1 }, (_, i) => ({
    name: `data${i}`,
    serial: `virtwork-data${i}`,
    dv: `data${i}-${input.name}`,
  }));
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: LABELS,
      ...(input.annotations ? { annotations: input.annotations } : {}),
    },
    spec: {
      runStrategy: input.runStrategy ?? "Always",
      template: {
        metadata: { labels: LABELS },
        spec: {
          domain: {
            cpu: { cores: 2 },
            resources: { requests: { memory: input.memory ?? "2Gi" } },
            devices: {
              disks: [
                { name: "containerdisk", disk: { bus: "virtio" } },
                { name: "cloudinitdisk", disk: { bus: "virtio" } },
                ...disks.map((d) => ({ name: d.name, serial: d.serial, disk: { bus: "virtio" } })),
              ],
              interfaces: [{ name: "default", masquerade: {} }],
            },
          },
          networks: [{ name: "default", pod: {} }],
          volumes: [
            { name: "containerdisk", containerDisk: { image: "quay.io/containerdisks/fedora:41" } },
            { name: "cloudinitdisk", cloudInitNoCloud: { secretRef: { name: `${input.name}-cloudinit` } } },
            ...disks.map((d) => ({ name: d.name, dataVolume: { name: d.dv } })),
          ],
        },
      },
      dataVolumeTemplates: disks.map((d) => ({
        metadata: { name: d.dv, labels: LABELS },
        spec: {
          source: { blank: {} },
          storage: {
            resources: { requests: { storage: "10Gi" } },
            ...(input.storageClass ? { storageClassName: input.storageClass } : {}),
          },
        },
      })),
    },
  };
}
