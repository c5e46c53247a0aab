/**
 * Kubernetes resource quantities ("2Gi", "512Mi", "1.5G", "100m"), parsed once at the edge
 * so the rest of the code passes validated values around.
 */
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m|[eE][+-]?\d+)?$/;

const FACTORS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export class Quantity {
  readonly text: string;
  /** Approximate value in base units (bytes for memory and storage). */
  readonly value: number;

  private constructor(text: string, value: number) {
    this.text = text;
    this.value = value;
  }

  /** Parses a quantity; returns an explanation instead of throwing. */
  static parse(text: string): Quantity | { problem: string } {
    const trimmed = text.trim();
    const match = QUANTITY.exec(trimmed);
    if (!match) {
      return { problem: `"${text}" is not a Kubernetes quantity (expected e.g. 512Mi, 2Gi, 10Gi or 1Ti)` };
    }
    const [, number = "0", suffix = ""] = match;
    const factor =
      suffix.startsWith("e") || suffix.startsWith("E") ? 10 ** Number(suffix.slice(1)) : FACTORS[suffix];
    return new Quantity(trimmed, Number(number) * (factor ?? 1));
  }

  /** A quantity that must be a positive byte size of at least `minimum` bytes. */
  static parseSize(text: string, minimum = 1): Quantity | { problem: string } {
    const q = Quantity.parse(text);
    if (!(q instanceof Quantity)) return q;
    if (!(q.value >= minimum)) {
      return { problem: `"${text}" is too small (must be at least ${minimum} bytes, e.g. 512Mi or 2Gi)` };
    }
    return q;
  }

  toString(): string {
    return this.text;
  }

  /** As JSON (audit settings, summaries), a quantity is its text, as Kubernetes writes it. */
  toJSON(): string {
    return this.text;
  }
}
