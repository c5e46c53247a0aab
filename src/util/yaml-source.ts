import { type Document, isPair, isScalar, type Scalar, visit } from "yaml";

/**
 * Makes the plain number and boolean scalars of a parsed document strings of their source
 * text: YAML reads `0123` as 123, `1e3` as 1000 and `0x1F` as 31, so a password, namespace
 * or param written that way would silently change. The value's parser (the same one flags
 * and environment variables go through) then sees what the user wrote: `vm-count: 2` is still
 * two, `vm-count: 0x10` is refused like `--vm-count 0x10`. Quoted scalars are strings already;
 * null stays null. `only` limits it to the scalars it accepts (by the key they are the value of).
 */
export function keepScalarSource(doc: Document, only?: (key: unknown) => boolean): void {
  visit(doc, {
    Scalar(_key, node: Scalar, path) {
      if (typeof node.value !== "number" && typeof node.value !== "boolean") return;
      if (node.source === undefined) return;
      if (only) {
        const parent = path[path.length - 1];
        if (!isPair(parent) || parent.value !== node) return;
        if (!only(isScalar(parent.key) ? parent.key.value : parent.key)) return;
      }
      node.value = node.source;
    },
  });
}
