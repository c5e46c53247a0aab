import { RESOURCES, type Resource } from "../kube/resources.ts";

// The kinds cleanup removes and what it reports about them (shared by cleanup's modules).

/** Kinds cleanup removes, in deletion order: VMs first so their DVs/PVCs are released. */
export const CLEANUP_KINDS: { key: CleanupKind; resource: Resource; collection: boolean }[] = [
  { key: "vms", resource: RESOURCES.virtualmachines, collection: true },
  { key: "dataVolumes", resource: RESOURCES.datavolumes, collection: true },
  { key: "pvcs", resource: RESOURCES.persistentvolumeclaims, collection: true },
  // Services have no deletecollection in the core API: one DELETE each.
  { key: "services", resource: RESOURCES.services, collection: false },
  { key: "secrets", resource: RESOURCES.secrets, collection: true },
];

export type CleanupKind = "vms" | "dataVolumes" | "pvcs" | "services" | "secrets";

export interface CleanupItem {
  kind: string;
  name: string;
  uid?: string;
  runId?: string;
}

export interface CleanupPreview {
  namespace: string;
  selector: string;
  objects: Record<CleanupKind, string[]>;
  /** Every object with its kind, uid and run id, for the deletes and the audit trail. */
  items: CleanupItem[];
  runIds: string[];
  total: number;
  /** Kinds not served (e.g. CDI absent): nothing of them can exist. */
  skippedKinds: string[];
  /** Kinds that could not be listed, with the cause: cleanup cannot be complete (exit 1). */
  unlistable: { kind: string; error: string }[];
  /** Why nothing at all will be deleted (VMs could not be listed), if so. */
  blocked?: string;
  namespaceState: { exists: boolean; createdByVirtwork: boolean };
}

export interface CleanupResult {
  dryRun: boolean;
  deleted: Record<CleanupKind, number>;
  /**
   * Listed by the preview but gone when its delete came: most often a DataVolume or PVC the
   * garbage collector removed with the VirtualMachine that owns it. Counted apart, so
   * "0 DataVolumes" deleted does not read as "the DataVolumes were left behind".
   */
  alreadyGone: Record<CleanupKind, number>;
  /** What was deleted (or, in a server dry run, would be), for the audit trail. */
  deletedItems: CleanupItem[];
  /** Each thing that makes the cleanup incomplete, naming the object or kind and the cause. */
  errors: string[];
  /** What went wrong but was recovered from (e.g. a refused collection delete → one by one). */
  notes: string[];
  /** Objects still there at the end of --wait, with why. */
  remaining: { kind: string; name: string; cause: string }[];
  namespaceDeleted: boolean;
  namespaceKept?: string;
}
