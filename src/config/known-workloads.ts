import { UsageError } from "../errors.ts";
import { didYouMean } from "../util/suggest.ts";
import type { CatalogSource } from "../workloads/catalog/source.ts";
import type { Registry } from "../workloads/registry.ts";
import type { Workload } from "../workloads/types.ts";

/**
 * The workloads a configuration may name: the built-ins, and the catalog's entries, each
 * loaded (and checked) the first time it is named. Problems go to `problems`, one line each.
 */
export class KnownWorkloads {
  /** The built-ins plus every catalog entry loaded so far. */
  readonly registry: Map<string, Workload>;
  readonly builtins: Registry;
  /** Catalog entries that are not built-ins. */
  readonly catalogNames: string[] = [];
  private readonly catalog: CatalogSource;
  private readonly problems: string[];
  private readonly failed = new Set<string>();

  constructor(builtins: Registry, catalog: CatalogSource, problems: string[]) {
    this.builtins = builtins;
    this.registry = new Map(builtins);
    this.catalog = catalog;
    this.problems = problems;
    try {
      this.catalogNames = catalog.names().filter((n) => !builtins.has(n));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      problems.push(err.message);
    }
  }

  /** Every name, built-ins first. */
  get names(): string[] {
    return [...this.builtins.keys(), ...this.catalogNames];
  }

  /** Loads a catalog entry (once); false when it does not load. */
  load(name: string): boolean {
    if (this.registry.has(name)) return true;
    if (this.failed.has(name)) return false;
    try {
      this.registry.set(name, this.catalog.load(name));
      return true;
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      this.failed.add(name);
      this.problems.push(err.message);
      return false;
    }
  }

  /** True for a known name (loading a catalog entry); else reports it at `where` with a suggestion. */
  check(name: string, where: string): boolean {
    if (this.registry.has(name)) return true;
    if (this.catalogNames.includes(name)) return this.load(name);
    const known = this.names;
    this.problems.push(
      `${where}: unknown workload "${name}"${didYouMean(name, known)}; available: ${known.join(", ")}`,
    );
    return false;
  }
}
