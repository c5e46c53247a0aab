import type { CleanupPreview } from "../../ops/cleanup.ts";
import type { CleanupReport } from "../../ops/cleanup-run.ts";
import { toYaml } from "../../util/yaml-emit.ts";
import { toTable } from "../output.ts";

const LABELS: Record<keyof CleanupPreview["objects"], string> = {
  vms: "VirtualMachines",
  dataVolumes: "DataVolumes",
  pvcs: "PersistentVolumeClaims",
  services: "Services",
  secrets: "Secrets",
};
const KINDS = Object.keys(LABELS) as (keyof typeof LABELS)[];

/** The preview table; `wide` lists every name instead of the first three. */
export function renderPreview(p: CleanupPreview, wide = false): string {
  const rows = KINDS.map((k) => [
    LABELS[k],
    String(p.objects[k].length),
    wide
      ? p.objects[k].join(",")
      : p.objects[k].slice(0, 3).join(", ") + (p.objects[k].length > 3 ? ", …" : ""),
  ]);
  const skipped = p.skippedKinds.length ? `Not checked: ${p.skippedKinds.join(", ")}\n` : "";
  return `Namespace ${p.namespace}, selector ${p.selector}${p.runIds.length ? `, runs: ${p.runIds.join(", ")}` : ""}\n${toTable(["KIND", "COUNT", "NAMES"], rows)}${skipped}`;
}

/** `-o name`: every object of the preview as kind/name, one a line. */
export function renderPreviewNames(p: CleanupPreview): string {
  return KINDS.flatMap((k) =>
    p.objects[k].map((n) => `${LABELS[k].toLowerCase().replace(/s$/, "")}/${n}\n`),
  ).join("");
}

/** stdout after the preview: what was deleted (or why nothing was); JSON holds the preview too. */
export function renderCleanup(r: CleanupReport, format: "json" | "yaml" | undefined): string {
  if (format === "yaml") return toYaml(JSON.parse(renderCleanup(r, "json")));
  const json = format === "json";
  const { result, namespace } = r;
  if (r.outcome === "declined") return "Aborted: nothing was deleted.\n";
  if (!result) {
    if (json) return `${JSON.stringify({ preview: r.preview, deleted: null }, null, 2)}\n`;
    return r.preview.total === 0 ? "Nothing to clean up.\n" : "Dry run: nothing was deleted.\n";
  }
  if (json) return `${JSON.stringify({ preview: r.preview, ...result }, null, 2)}\n`;
  const counts = KINDS.map((k) => `${result.deleted[k]} ${LABELS[k]}`).join(", ");
  let out = `Deleted ${counts}.${result.namespaceDeleted ? ` Namespace ${namespace} deleted.` : ""}\n`;
  if (result.namespaceKept) out += `Namespace ${namespace} kept: ${result.namespaceKept}.\n`;
  return out;
}

/** What stderr says when objects could not be deleted, or undefined. */
export function cleanupProblem(r: CleanupReport): string | undefined {
  const errors = r.result?.errors ?? [];
  return errors.length
    ? `Error: ${errors.length} objects could not be deleted; first: ${errors[0]}\n`
    : undefined;
}
