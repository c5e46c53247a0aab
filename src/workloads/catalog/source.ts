import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { UsageError } from "../../errors.ts";
import { didYouMean } from "../../util/suggest.ts";
import { readTextFile, TextFileProblem } from "../../util/text-file.ts";
import { BUILTIN_WORKLOADS } from "../registry.ts";
import { type EntryFiles, entryNameProblem, MANIFEST_FILE, parseEntry } from "./entry.ts";
import { CatalogError } from "./problems.ts";
import { type CatalogWorkload, catalogWorkload } from "./workload.ts";

/** A catalog directory (reference §9.1): one sub-directory per entry. */
export interface CatalogSource {
  dir: string;
  /** Where the directory came from, e.g. `--catalog-dir` or `default`. */
  origin: string;
  exists(): boolean;
  /** Entry names: sub-directories, hidden ones skipped, sorted. */
  names(): string[];
  /** Loads and validates an entry (once); throws a UsageError naming file and field. */
  load(name: string): CatalogWorkload;
}

const BUILTIN_NAMES: ReadonlySet<string> = new Set(BUILTIN_WORKLOADS.map((w) => w.name));

function reason(err: unknown): string {
  if (err instanceof TextFileProblem) return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  if (code === "ENOTDIR") return "not a directory";
  return (err as Error).message;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Where a symlink in the catalog leads, when that is outside the catalog directory (the entry
 * would install a file from anywhere on the machine into every guest): the problem, else undefined.
 */
function leavesCatalog(catalogDir: string, path: string): string | undefined {
  let isLink = false;
  try {
    isLink = lstatSync(path).isSymbolicLink();
  } catch {
    return undefined; // reading it reports the problem
  }
  if (!isLink) return undefined;
  let target: string;
  try {
    target = realpathSync(path);
  } catch (err) {
    return `is a symlink that leads nowhere (${reason(err)}); make it a file`;
  }
  const rel = relative(realpathSync(catalogDir), target);
  if (rel === "" || rel.startsWith(`..${sep}`) || rel === ".." || rel.startsWith(sep))
    return `is a symlink to ${target}, outside the catalog directory; copy the file into the entry instead`;
  return undefined;
}

/** Reads an entry's workload.yaml and *.service files from disk. */
export function readEntryFiles(dir: string, name: string): EntryFiles {
  const entryDir = join(dir, name);
  const escapes = leavesCatalog(dir, entryDir);
  if (escapes) throw new CatalogError(name, [{ file: entryDir, message: `the entry directory ${escapes}` }]);
  const read = (file: string) => {
    const path = join(entryDir, file);
    const outside = leavesCatalog(dir, path);
    if (outside) throw new CatalogError(name, [{ file: path, message: outside }]);
    try {
      return readTextFile(path);
    } catch (err) {
      if (err instanceof CatalogError) throw err;
      throw new CatalogError(name, [{ file: path, message: `cannot read: ${reason(err)}` }]);
    }
  };
  let listing: string[];
  try {
    listing = readdirSync(entryDir).sort();
  } catch (err) {
    throw new CatalogError(name, [{ file: entryDir, message: `cannot read the directory: ${reason(err)}` }]);
  }
  const files: EntryFiles = { name, dir: entryDir, units: {} };
  const units: Record<string, string> = {};
  for (const file of listing) {
    if (file === MANIFEST_FILE) files.manifest = read(file);
    else if (file === "workload.yml") {
      throw new CatalogError(name, [
        { file: join(entryDir, file), message: `rename it to ${MANIFEST_FILE}` },
      ]);
    } else if (file.endsWith(".service") && !isDirectory(join(entryDir, file))) units[file] = read(file);
  }
  files.units = units;
  return files;
}

export function openCatalog(dir: string, origin: string, builtins = BUILTIN_NAMES): CatalogSource {
  const loaded = new Map<string, CatalogWorkload>();
  let listing: string[] | undefined;
  const source: CatalogSource = {
    dir,
    origin,
    exists: () => isDirectory(dir),
    names() {
      if (listing) return listing;
      try {
        listing = readdirSync(dir, { withFileTypes: true })
          .filter((d) => !d.name.startsWith(".") && (d.isDirectory() || isDirectory(join(dir, d.name))))
          .map((d) => d.name)
          .sort();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOENT")
          throw new UsageError(`${origin}: cannot read catalog directory ${dir}: ${reason(err)}`);
        listing = [];
      }
      return listing;
    },
    load(name) {
      const cached = loaded.get(name);
      if (cached) return cached;
      const nameProblem = entryNameProblem(name, builtins);
      if (nameProblem) throw new CatalogError(name, [{ file: join(dir, name), message: nameProblem }]);
      if (!source.exists()) {
        throw new UsageError(
          `catalog entry "${name}": catalog directory ${dir} (${origin}) does not exist; set --catalog-dir, VIRTWORK_CATALOG_DIR or catalog-dir in the config file`,
        );
      }
      if (!isDirectory(join(dir, name))) {
        const names = source.names().filter((n) => !builtins.has(n));
        throw new UsageError(
          `catalog entry "${name}": no directory ${join(dir, name)}${didYouMean(name, names)}; entries in ${dir}: ${names.length ? names.join(", ") : "none"}`,
        );
      }
      const workload = catalogWorkload(parseEntry(readEntryFiles(dir, name), builtins));
      loaded.set(name, workload);
      return workload;
    },
  };
  return source;
}
