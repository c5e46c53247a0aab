import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readTextFile, TextFileProblem } from "./text-file.ts";

describe("readTextFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "vw-text-file-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const refused = (path: string, reason: RegExp, max?: number) =>
    assert.throws(
      () => readTextFile(path, max),
      (err: unknown) => err instanceof TextFileProblem && reason.test(err.message),
    );

  it("reads a regular UTF-8 file", () => {
    writeFileSync(join(dir, "ok.yaml"), "namespace: grüße\n");
    assert.equal(readTextFile(join(dir, "ok.yaml")), "namespace: grüße\n");
  });

  it("reads a file whose size the kernel does not know (/proc)", () => {
    assert.match(readTextFile("/proc/self/status"), /^Name:/);
  });

  it("says what is missing, keeping the errno code", () => {
    assert.throws(
      () => readTextFile(join(dir, "missing")),
      (err: unknown) =>
        err instanceof TextFileProblem && err.code === "ENOENT" && err.message === "no such file",
    );
  });

  it("refuses a FIFO at once instead of waiting for a writer", { timeout: 5000 }, () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    refused(fifo, /^is a FIFO \(named pipe\), not a regular file$/);
  });

  it("refuses /dev/zero and a directory", { timeout: 5000 }, () => {
    refused("/dev/zero", /character device, not a regular file/);
    refused(dir, /directory, not a regular file/);
  });

  it("refuses a file over the bound, naming the bound", () => {
    writeFileSync(join(dir, "big"), "x".repeat(2048));
    refused(join(dir, "big"), /larger than 1024 bytes/, 1024);
    writeFileSync(join(dir, "huge"), Buffer.alloc(1024 * 1024 + 1, 0x61));
    refused(join(dir, "huge"), /larger than 1 MiB/);
  });

  it("refuses bytes that are not UTF-8", () => {
    writeFileSync(join(dir, "latin1"), Buffer.from([0x70, 0xe4, 0x73, 0x73, 0x0a]));
    refused(join(dir, "latin1"), /not UTF-8 text/);
  });
});
