import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";

/** Config files, password files, key files and CA bundles are small; 1 MiB is far above any. */
export const MAX_TEXT_FILE_BYTES = 1024 * 1024;
/** Kubeconfig files merge many clusters with inline certificates; still never a stream. */
export const MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024;

/**
 * A file named by the user that cannot be read as text: what is wrong, in words that follow
 * the path ("no such file", "is a FIFO, not a regular file", …). `code` is the errno code
 * when the system refused, so callers that look at ENOENT keep working.
 */
export class TextFileProblem extends Error {
  override name = "TextFileProblem";
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return "is a directory";
  if (stat.isFIFO()) return "is a FIFO (named pipe)";
  if (stat.isCharacterDevice()) return "is a character device";
  if (stat.isBlockDevice()) return "is a block device";
  if (stat.isSocket()) return "is a socket";
  return "is not a regular file";
}

function describeBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

function limitText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

const ERRNO_REASONS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  ELOOP: "too many symbolic links",
};

/**
 * Reads a user-named file as UTF-8 text, refusing what would hang or flood the process: the
 * file is opened without blocking (a FIFO without a writer would block the open itself),
 * checked with fstat to be a regular file (not a FIFO, /dev/zero, a socket or a directory),
 * read up to `maxBytes` (a file that grows while it is read is cut off there, not followed)
 * and decoded strictly (a binary file is not taken for text).
 */
export function readTextFile(path: string, maxBytes = MAX_TEXT_FILE_BYTES): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TextFileProblem(ERRNO_REASONS[code ?? ""] ?? (err as Error).message, code);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new TextFileProblem(`${kindOf(stat)}, not a regular file`);
    const tooBig = `is larger than ${limitText(maxBytes)}: not a text file of settings`;
    if (stat.size > maxBytes) throw new TextFileProblem(`${tooBig} (${describeBytes(stat.size)})`);
    // The size may be 0 (/proc files) or stale (a file being written): read to EOF, up to the bound.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      length += n;
      if (length > maxBytes) throw new TextFileProblem(tooBig);
    }
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
        Buffer.concat(chunks, length),
      );
    } catch {
      throw new TextFileProblem("is not UTF-8 text");
    }
  } catch (err) {
    if (err instanceof TextFileProblem) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new TextFileProblem(ERRNO_REASONS[code ?? ""] ?? (err as Error).message, code);
  } finally {
    closeSync(fd);
  }
}
