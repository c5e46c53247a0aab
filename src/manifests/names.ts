/** Object names in one place, all checked against DNS-1123 (design §3). */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_LABEL_MAX = 63;

/** What is wrong with `name` as a DNS-1123 label, or undefined. */
export function dns1123LabelProblem(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name.length > DNS1123_LABEL_MAX)
    return `must be at most ${DNS1123_LABEL_MAX} characters (got ${name.length})`;
  if (!DNS1123_LABEL.test(name)) {
    return "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit";
  }
  return undefined;
}

export function vmName(workload: string, index: number, role?: string): string {
  return role === undefined ? `virtwork-${workload}-${index}` : `virtwork-${workload}-${role}-${index}`;
}

export function cloudInitSecretName(vm: string): string {
  return `${vm}-cloudinit`;
}

export function dataVolumeName(base: string, vm: string): string {
  return `${base}-${vm}`;
}

/**
 * The DNS name of one VM behind a headless Service: the VM's `hostname` is its own name and its
 * `subdomain` the Service's, so the cluster DNS serves `<vm>.<service>.<namespace>.svc.<domain>`
 * for that VM alone.
 */
export function vmDnsName(vm: string, service: string, namespace: string): string {
  return `${vm}.${service}.${namespace}.svc.cluster.local`;
}
