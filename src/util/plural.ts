/** `1 VirtualMachine`, `2 VirtualMachines`, `0 Services`: a count with its kind, in English. */
export function counted(n: number, kind: string): string {
  return `${n} ${plural(kind, n)}`;
}

/** The kind's plural unless there is exactly one (kinds here are regular: add "s"). */
export function plural(kind: string, n: number): string {
  return n === 1 ? kind : `${kind}s`;
}
