import { ExitCode } from "../errors.ts";
import type { Logger } from "../log/logger.ts";

/**
 * SIGINT/SIGTERM: the first aborts the returned signal (steps stop starting new work and
 * report); a second exits at once with 130.
 */
export function interruptible(logger: Logger): {
  signal: AbortSignal;
  interrupted: () => boolean;
  dispose: () => void;
} {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    logger.warn(`${name} received: stopping; press Ctrl-C again to exit at once`);
    controller.abort(new Error(`interrupted by ${name}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    interrupted: () => controller.signal.aborted,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
