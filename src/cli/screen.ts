/**
 * stderr as one writer: finished lines (logs, step results) and, on a terminal, one live line
 * below them. A finished line first clears the live line and then redraws it, so a log line
 * never lands on a progress line.
 */
export interface Screen {
  readonly tty: boolean;
  /** Writes finished text (one or more whole lines). */
  line(text: string): void;
  /** Replaces the live line (terminals only; ignored otherwise). */
  live(text: string): void;
  /** Removes the live line. */
  clear(): void;
}

export function createScreen(write: (text: string) => void, tty: boolean, columns = 100): Screen {
  let current = "";
  const fit = (text: string) => (text.length > columns - 1 ? `${text.slice(0, columns - 2)}…` : text);
  return {
    tty,
    line(text) {
      const whole = text.endsWith("\n") ? text : `${text}\n`;
      if (tty && current) write(`\r\x1b[K${whole}${current}`);
      else write(whole);
    },
    live(text) {
      if (!tty) return;
      current = fit(text);
      write(`\r\x1b[K${current}`);
    },
    clear() {
      if (tty && current) write("\r\x1b[K");
      current = "";
    },
  };
}
