import { createInterface } from "node:readline/promises";
import { processSignals } from "../ops/signals.ts";
import type { CliContext } from "./context.ts";

/** Asks on the terminal; true only for "yes". */
export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    // Ctrl-C at the prompt ends the question (the answer is then "no").
    const answer = await rl.question(question, { signal: processSignals().signal });
    return answer.trim().toLowerCase() === "yes";
  } catch {
    return false;
  } finally {
    rl.close();
    ctx.stderr("");
  }
}
