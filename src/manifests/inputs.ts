/** Manifest inputs a workload asks for: its data disks and its Service. */

export interface DataDisk {
  /** Disk and volume name inside the VM spec. */
  name: string;
  /** virtio serial: the guest finds the disk at /dev/disk/by-id/virtio-<serial>. */
  serial: string;
  /** The DataVolume is named `<dataVolumeBase>-<vm name>`. */
  dataVolumeBase: string;
  /** Quantity string; defaults to the run's disk size. */
  size?: string;
  /** Roles whose VMs get this disk; absent → every VM of the workload. */
  roles?: string[];
}

export interface ServicePort {
  name: string;
  port: number;
  /** TCP unless given. */
  protocol?: "TCP" | "UDP";
}

export interface ServiceSpec {
  name: string;
  ports: ServicePort[];
  /**
   * Role whose VMs back the Service; the selector is always scoped to the workload too.
   * Without it, every VM of the workload backs the Service.
   */
  selectorRole?: string;
  /**
   * Headless (no cluster IP): each backing VM gets `hostname: <vm>` and `subdomain: <name>`,
   * so `<vm>.<name>.<namespace>.svc.cluster.local` names that VM alone (see `vmDnsName`).
   * Server/client workloads use it so that client i talks to server i only.
   */
  perVmDns?: boolean;
}

/**
 * A VM's readiness probe as KubeVirt takes it (`spec.template.spec.readinessProbe`): an exec
 * probe runs `command` in the guest through the QEMU guest agent (guest-exec); exit 0 is ready.
 */
export interface ReadinessProbe {
  exec: { command: string[] };
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  successThreshold: number;
}
