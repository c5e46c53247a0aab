import { createInterface } from "node:readline/promises";
import type { CliContext } from "./context.ts";

/** Asks on the terminal; true only for "yes". */
export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return answer.trim().toLowerCase() === "yes";
  } catch {
    return false;
  } finally {
    rl.close();
    ctx.stderr("");
  }
}
