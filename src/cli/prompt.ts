import { createInterface } from "node:readline/promises";
import type { CliContext } from "./context.ts";

/** Asks on the terminal; true for "y" and "yes" (any case), no otherwise. */
export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
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
