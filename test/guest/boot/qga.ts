/**
 * A minimal QEMU guest agent client over the virtio-serial socket qemu exposes on the host
 * (org.qemu.guest_agent.0). Only what the checks need: sync, exec with captured output.
 */
import { createConnection, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { scale } from "./pace.ts";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class GuestAgent {
  private socket: Socket | undefined;
  private buffer = "";
  private waiters: ((line: Record<string, unknown>) => void)[] = [];
  private nextId = Math.floor(Math.random() * 1e6);

  private readonly path: string;
  /** Whether the agent has answered a sync since the guest booted (a sign of progress). */
  answered = false;

  constructor(path: string) {
    this.path = path;
  }

  private async open(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(this.path);
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    });
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      for (;;) {
        const nl = this.buffer.indexOf("\n");
        if (nl < 0) break;
        // 0xFF precedes the reply to guest-sync-delimited.
        const line = this.buffer.slice(0, nl).replaceAll("\xff", "").trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        for (const w of this.waiters.splice(0)) w(msg);
      }
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      if (this.socket === socket) this.socket = undefined;
    });
    this.socket = socket;
    return socket;
  }

  private next(timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(undefined);
      }, timeoutMs);
      const done = (msg: Record<string, unknown>) => {
        clearTimeout(timer);
        resolve(msg);
      };
      this.waiters.push(done);
    });
  }

  /** Waits until the agent answers a guest-sync-delimited with our id. */
  async sync(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (Date.now() < deadline) {
      try {
        const socket = await this.open();
        const id = ++this.nextId;
        this.buffer = "";
        // 0xFF resets the agent's parser after anything half-written by an earlier attempt.
        socket.write(Buffer.from([0xff]));
        socket.write(`${JSON.stringify({ execute: "guest-sync-delimited", arguments: { id } })}\n`);
        const until = Date.now() + 3000;
        while (Date.now() < until) {
          const msg = await this.next(until - Date.now());
          if (msg && msg.return === id) {
            this.answered = true;
            return;
          }
        }
      } catch {
        await sleep(1000);
      }
    }
    throw new Error(`guest agent at ${this.path} did not answer within ${deadlineMs / 1000}s`);
  }

  /** One request and its reply; the time limit is scaled by the host's pace (pace.ts). */
  async command(execute: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<unknown> {
    const socket = await this.open();
    const reply = this.next(timeoutMs * scale());
    socket.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
    const msg = await reply;
    if (!msg) throw new Error(`guest agent: ${execute} timed out`);
    if (msg.error) throw new Error(`guest agent: ${execute}: ${JSON.stringify(msg.error)}`);
    return msg.return;
  }

  /**
   * Runs a program in the guest (as root) and returns its exit code and output. The time limit
   * is `timeoutMs` × the pace when it starts (TCG ×4, × the host's load per core, up to ×4).
   */
  async exec(argv: string[], timeoutMs = 60_000): Promise<ExecResult> {
    const limitMs = timeoutMs * scale();
    const t0 = Date.now();
    const [path, ...arg] = argv;
    const started = (await this.command("guest-exec", { path, arg, "capture-output": true })) as {
      pid: number;
    };
    const deadline = t0 + limitMs;
    for (;;) {
      const status = (await this.command("guest-exec-status", { pid: started.pid })) as {
        exited: boolean;
        exitcode?: number;
        signal?: number;
        "out-data"?: string;
        "err-data"?: string;
      };
      if (status.exited) {
        return {
          code: status.exitcode ?? 128 + (status.signal ?? 0),
          stdout: Buffer.from(status["out-data"] ?? "", "base64").toString("utf8"),
          stderr: Buffer.from(status["err-data"] ?? "", "base64").toString("utf8"),
        };
      }
      if (Date.now() > deadline)
        throw new Error(
          `guest exec ${argv.join(" ")} did not finish within ${(limitMs / 1000).toFixed(0)}s (${timeoutMs / 1000}s × pace ${(limitMs / timeoutMs).toFixed(1)})`,
        );
      await sleep(200);
    }
  }

  /** Runs a shell program in the guest. */
  sh(script: string, timeoutMs?: number): Promise<ExecResult> {
    return this.exec(["/bin/bash", "-c", script], timeoutMs);
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}
