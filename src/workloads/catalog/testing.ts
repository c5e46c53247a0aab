/** Test helpers: catalog directories in a temp folder. Not used by the CLI. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** entry name → file name → text (a name ending in "/" makes an empty directory). */
export type CatalogFiles = Record<string, Record<string, string>>;

export interface TempCatalog {
  dir: string;
  remove(): void;
}

export function makeCatalog(entries: CatalogFiles): TempCatalog {
  const dir = mkdtempSync(join(tmpdir(), "virtwork-catalog-"));
  for (const [entry, files] of Object.entries(entries)) {
    mkdirSync(join(dir, entry), { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      const path = join(dir, entry, file);
      mkdirSync(file.endsWith("/") ? path : dirname(path), { recursive: true });
      if (!file.endsWith("/")) writeFileSync(path, text);
    }
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A minimal valid unit file; `exec` becomes its ExecStart. */
export function unit(exec = "/bin/sleep infinity", description = "test unit"): string {
  return `[Unit]\nDescription=${description}\n\n[Service]\nExecStart=${exec}\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n`;
}
