/**
 * A minimal QMP (QEMU Machine Protocol) client over the unix socket qemu exposes with
 * `-qmp unix:<path>,server=on,wait=off`: greeting, qmp_capabilities, then one command at a time.
 * Used to read the counters KubeVirt's virt-handler gets from libvirt, which gets them from
 * QEMU: block statistics (query-blockstats) and the vCPU threads (query-cpus-fast).
 */
import { createConnection, type Socket } from "node:net";

export class Qmp {
  private socket: Socket | undefined;
  private buffer = "";
  private waiters: ((msg: Record<string, unknown>) => void)[] = [];
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async open(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(this.path);
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    });
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ("event" in msg) continue; // asynchronous events are not answers
        this.waiters.shift()?.(msg);
      }
    });
    socket.on("error", () => socket.destroy());
    this.socket = socket;
    const greeting = this.next();
    await greeting;
    socket.write(`${JSON.stringify({ execute: "qmp_capabilities" })}\n`);
    const caps = await this.next();
    if (caps.error) throw new Error(`qmp_capabilities: ${JSON.stringify(caps.error)}`);
    return socket;
  }

  async execute<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    const socket = await this.open();
    const answer = this.next();
    socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) })}\n`);
    const msg = await answer;
    if (msg.error) throw new Error(`${command}: ${JSON.stringify(msg.error)}`);
    return msg.return as T;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}
