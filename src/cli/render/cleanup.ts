import type { CleanupPreview } from "../../ops/cleanup-kinds.ts";
import type { CleanupReport } from "../../ops/cleanup-run.ts";
import { counted } from "../../util/plural.ts";
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
/** `1 VirtualMachine`, `2 VirtualMachines`. */
const count = (n: number, k: (typeof KINDS)[number]) => counted(n, LABELS[k].replace(/s$/, ""));

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
  const unlistable = p.unlistable.map((u) => `Cannot list ${u.kind}: ${u.error}\n`).join("");
  return `Namespace ${p.namespace}, selector ${p.selector}${p.runIds.length ? `, runs: ${p.runIds.join(", ")}` : ""}\n${toTable(["KIND", "COUNT", "NAMES"], rows)}${skipped}${unlistable}`;
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
    if (r.preview.total > 0) return "Dry run: nothing was deleted.\n";
    return r.preview.unlistable.length
      ? "Nothing found in the kinds that could be listed.\n"
      : "Nothing to clean up.\n";
  }
  if (json) return `${JSON.stringify({ preview: r.preview, ...result }, null, 2)}\n`;
  const counts = KINDS.map((k) => count(result.deleted[k], k)).join(", ");
  const server = result.dryRun;
  let out = `${server ? "Dry run (server): would delete" : "Deleted"} ${counts}.${result.namespaceDeleted ? ` Namespace ${namespace} ${server ? "would be " : ""}deleted.` : ""}\n`;
  const goneKinds = KINDS.filter((k) => result.alreadyGone[k] > 0);
  const gone = goneKinds.map((k) => count(result.alreadyGone[k], k));
  const one = goneKinds.length === 1 && result.alreadyGone[goneKinds[0] as (typeof KINDS)[number]] === 1;
  if (gone.length)
    out += `Note: ${gone.join(", ")} ${server ? "would already be" : one ? "was already" : "were already"} gone when cleanup reached ${one ? "it" : "them"} (removed by the garbage collector with the objects that own ${one ? "it" : "them"}).\n`;
  for (const note of result.notes) out += `Note: ${note}.\n`;
  if (result.namespaceKept) out += `Namespace ${namespace} kept: ${result.namespaceKept}.\n`;
  return out;
}

/** What stderr says when the cleanup is incomplete (each object or kind with its cause), or undefined. */
export function cleanupProblem(r: CleanupReport): string | undefined {
  const errors = r.result?.errors ?? [];
  if (!r.result && r.preview.unlistable.length)
    return `Error: the preview is incomplete: ${r.preview.unlistable.map((u) => `cannot list ${u.kind}`).join("; ")}\n`;
  if (!errors.length) return undefined;
  const n = errors.length;
  return `Error: cleanup is incomplete (${n} ${n === 1 ? "problem" : "problems"}):\n${errors.map((e) => `  ${e}`).join("\n")}\n`;
}
