import { writeSync } from "node:fs";

/**
 * Synchronous writes straight to the file descriptor. Creating process.stdout/stderr
 * streams costs several milliseconds of start-up, and a CLI that prints and exits needs
 * none of their buffering. EAGAIN (a non-blocking pipe that is full) is retried.
 */
export function writeAll(fd: number, text: string): void {
  let buffer = Buffer.from(text);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (buffer.length > 0) {
    try {
      const written = writeSync(fd, buffer);
      buffer = buffer.subarray(written);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}
