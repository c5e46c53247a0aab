import { writeSync } from "node:fs";

/**
 * Synchronous writes straight to the file descriptor. Creating process.stdout/stderr
 * streams costs several milliseconds of start-up, and a CLI that prints and exits needs
 * none of their buffering. EAGAIN (a non-blocking pipe that is full) is retried.
 */
/** Descriptors whose reader went away (EPIPE): nothing more is written to them. */
const closed = new Set<number>();

/**
 * Writes all of `text` to `fd`. When the reader has gone (`virtwork run --dry-run | head`),
 * the rest of the output is dropped quietly and the command ends as it would have: like
 * kubectl, no "broken pipe" error and no other exit code for a reader that saw enough.
 */
export function writeAll(fd: number, text: string): void {
  if (closed.has(fd)) return;
  let buffer = Buffer.from(text);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (buffer.length > 0) {
    try {
      const written = writeSync(fd, buffer);
      buffer = buffer.subarray(written);
    } catch (err) {
      // EPIPE from a pipe, ECONNRESET from a socket pair (how Node spawns a child's stdout)
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EPIPE" || code === "ECONNRESET") {
        closed.add(fd);
        return;
      }
      if (code !== "EAGAIN") throw err;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}
