import { distance } from "fastest-levenshtein";

/**
 * The closest candidate to `input`, offered only when it is plausibly a typo
 * (distance < len/2 + 1, the rule the Go original used).
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(input.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance < Math.floor(input.length / 2) + 1 ? best : undefined;
}

/** ` (did you mean "x"?)` or an empty string. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const best = closest(input, candidates);
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}
