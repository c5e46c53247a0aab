import type { Logger } from "../log/logger.ts";
import type { StatusReporter } from "../ops/context.ts";
import type { CliContext } from "./context.ts";

/**
 * The status of an operation on stderr: a live progress line on a terminal; otherwise a plain
 * log line at most every few seconds, so CI logs show movement without one line per object.
 * Step starts and ends go to the debug log.
 */
export function terminalStatus(ctx: CliContext, isTty: boolean, logger?: Logger): StatusReporter {
  let shown = false;
  let last = 0;
  const interval = isTty ? 100 : 3000;
  return {
    stepStarted: () => {},
    stepEnded: () => {},
    progress: (line) => {
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      if (!isTty) {
        logger?.info("progress", { status: line });
        return;
      }
      ctx.stderr(`\r\x1b[K${line}`);
      shown = true;
    },
    done: () => {
      if (shown) ctx.stderr("\r\x1b[K");
      shown = false;
    },
  };
}
