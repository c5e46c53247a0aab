import { createInterface } from "node:readline/promises";
import { processSignals } from "../ops/signals.ts";
import type { CliContext } from "./context.ts";

/** Asks on the terminal; true for "y" and "yes" (any case), no otherwise. */
export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    // Ctrl-C at the prompt ends the question (the answer is then "no").
    const answer = await rl.question(question, { signal: processSignals().signal });
    return isYes(answer);
  } catch {
    return false;
  } finally {
    rl.close();
    ctx.stderr("");
  }
}

export function isYes(answer: string): boolean {
  return ["y", "yes"].includes(answer.trim().toLowerCase());
}
