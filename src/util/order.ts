/**
 * Names in the order people count them: `cpu-2` before `cpu-10` (runs of digits compare as
 * numbers, the rest as text), as `kubectl get` users expect of virtwork's numbered VMs.
 */
export function compareNames(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length; // "02" after "2"
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
