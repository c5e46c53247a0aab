/** Label keys of the contract (design §3). `managed-by` is the cleanup selector. */
const LABEL_NAME = "app.kubernetes.io/name";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const LABEL_COMPONENT = "app.kubernetes.io/component";
export const LABEL_RUN_ID = "virtwork/run-id";
export const LABEL_ROLE = "virtwork/role";
export const APP = "virtwork";

export type Labels = Record<string, string>;

/** Labels every object of a run carries. */
export function runLabels(runId: string): Labels {
  return { [LABEL_NAME]: APP, [LABEL_MANAGED_BY]: APP, [LABEL_RUN_ID]: runId };
}

/** Labels of a workload's objects; VMs of multi-role workloads add their role. */
export function workloadLabels(runId: string, workload: string, role?: string): Labels {
  const labels: Labels = { ...runLabels(runId), [LABEL_COMPONENT]: workload };
  if (role !== undefined) labels[LABEL_ROLE] = role;
  return labels;
}

/** The selector `cleanup` uses: everything virtwork manages, optionally one run. */
export function managedSelector(runId?: string): string {
  return runId ? `${LABEL_MANAGED_BY}=${APP},${LABEL_RUN_ID}=${runId}` : `${LABEL_MANAGED_BY}=${APP}`;
}
