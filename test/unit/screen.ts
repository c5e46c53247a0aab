/**
 * What a terminal shows for the bytes a program wrote: `\r` returns to the start of the line,
 * ESC[K erases it, `\n` starts a new one. Colours and other sequences are not used by virtwork.
 */
export function screenOf(raw: string): string[] {
  const lines: string[] = [""];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences are the point.
  for (const part of raw.split(/(\r\n|\r|\n|\x1b\[K)/)) {
    if (part === "\r") continue;
    if (part === "\x1b[K") lines[lines.length - 1] = "";
    else if (part === "\n" || part === "\r\n") lines.push("");
    else lines[lines.length - 1] += part;
  }
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines;
}
