/**
 * Two pairs of network and tps guests (`--vm-count 2`, guest-os debian): each client talks
 * to its own server and never to the other one, although it can reach both (design §4.10).
 *
 * Every client is linked to every server (a point-to-point qemu socket link per
 * server/client, its own /24), and the "platform" /etc/hosts resolves both servers' DNS names
 * — what the headless Service serves in a cluster — so only the name in the client's
 * user-data decides where its traffic goes. Each server's journal names the peers that
 * reached it: exactly its own client.
 *
 * VIRTWORK_GUEST_CASES=network (or tps) runs one of the two; VIRTWORK_GUEST_KEEP=1 keeps the
 * VM directories.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { silentLogger } from "../../../src/log/logger.ts";
import type { Secret, VirtualMachine } from "../../../src/manifests/objects.ts";
import { prepareRun } from "../../../src/plan/prepare.ts";
import { GUEST_OS, sh } from "./cases.ts";
import { BootGate, scale, setAccelSlow } from "./pace.ts";
import { untilProgress } from "./progress.ts";
import {
  accel,
  cannotBoot,
  freePort,
  type GuestImage,
  guestImage,
  type Nic,
  startVm,
  type Vm,
} from "./qemu.ts";

const skip = cannotBoot();
const only = process.env.VIRTWORK_GUEST_CASES?.split(",").filter(Boolean);
const keep = process.env.VIRTWORK_GUEST_KEEP === "1";
const PAIRS = 2;
const RUN_ID = "00000000-0000-4000-8000-0000000b0a12";
const HARD_SECONDS = 60 * 60;
const gate = new BootGate();

interface PairCase {
  workload: string;
  params: Record<string, string>;
  /** The client unit's journal once it has talked to its server at least once. */
  clientDone: RegExp;
  /** Shell lines printing, one per line and unique, the peers the server's journal says reached it. */
  peers: string;
  /** A port that is closed on the servers: "connection refused" shows a server is reachable. */
  probePort: number;
}

const CASES: PairCase[] = [
  {
    workload: "network",
    params: { "parallel-streams": "1", "test-duration": "3" },
    clientDone: /iperf Done/,
    // iperf3 -s: "Accepted connection from 10.77.10.2, port 41234"
    peers:
      "journalctl -u virtwork-network.service -o cat --no-pager | sed -nE 's/.*Accepted connection from ([0-9.]+), port.*/\\1/p' | sort -u",
    probePort: 9,
  },
  {
    workload: "tps",
    params: { "file-size": "64K", iterations: "2", duration: "3" },
    clientDone: /Round 1\/2 completed/,
    // python3 -m http.server's access log: '10.77.10.2 - - [date] "GET /testfile HTTP/1.1" 200 -'
    peers:
      "journalctl -u virtwork-tps-http.service -o cat --no-pager | sed -nE 's/^([0-9.]+) - - \\[.*/\\1/p' | sort -u",
    probePort: 9,
  },
];

/** The link between server s and client c: its own /24, server .1, client .2. */
const link = (s: number, c: number) => {
  const net = 10 + s * PAIRS + c;
  const mac = (side: number) => `52:54:00:77:${net.toString(16).padStart(2, "0")}:0${side}`;
  return {
    server: { ip: `10.77.${net}.1`, mac: mac(1) },
    client: { ip: `10.77.${net}.2`, mac: mac(2) },
  };
};

function networkConfig(ends: { mac: string; ip: string }[]): string {
  return `version: 2\nethernets:\n${ends
    .map((e, i) => `  link${i}:\n    match:\n      macaddress: "${e.mac}"\n    addresses: [${e.ip}/24]\n`)
    .join("")}`;
}

function hostsVendorData(entries: [host: string, ip: string][]): string {
  return `#cloud-config\nbootcmd:\n${entries
    .map(
      ([host, ip]) =>
        `  - [sh, -c, "grep -q ' ${host}$' /etc/hosts || echo '${ip} ${host}' >> /etc/hosts"]\n`,
    )
    .join("")}`;
}

interface PairPlan {
  userData: Map<string, string>;
  /** DNS name of server i (hostname.subdomain.namespace.svc.cluster.local). */
  serverHost: string[];
  unit: { server: string; client: string };
}

/** `virtwork run --guest-os debian -w <workload> --vm-count 2 --params …`, through the real plan. */
function renderPairs(workload: string, params: Record<string, string>): PairPlan {
  const { plan } = prepareRun({
    flags: {
      workloads: [workload],
      "vm-count": String(PAIRS),
      params: Object.entries(params).map(([k, v]) => `${workload}.${k}=${v}`),
      "guest-os": GUEST_OS,
    },
    env: {},
    logger: silentLogger,
    runId: RUN_ID,
  });
  const userData = new Map<string, string>();
  for (const o of plan.objects) {
    if (o.kind === "Secret")
      userData.set((o as Secret).metadata?.name ?? "", (o as Secret).stringData?.userdata ?? "");
  }
  const serverHost: string[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const vm = plan.objects.find(
      (o): o is VirtualMachine =>
        o.kind === "VirtualMachine" && o.metadata?.name === `virtwork-${workload}-server-${i}`,
    );
    const spec = vm?.spec?.template.spec;
    assert.ok(spec?.hostname && spec.subdomain, `server ${i} has hostname and subdomain`);
    serverHost.push(`${spec.hostname}.${spec.subdomain}.${plan.namespace}.svc.cluster.local`);
  }
  const unitIn = (text: string) =>
    /path: \/etc\/systemd\/system\/(virtwork-[a-z0-9-]+\.service)/.exec(text)?.[1] ?? "";
  return {
    userData,
    serverHost,
    unit: {
      server: unitIn(userData.get(`virtwork-${workload}-server-0-cloudinit`) ?? ""),
      client: unitIn(userData.get(`virtwork-${workload}-client-0-cloudinit`) ?? ""),
    },
  };
}

/** Waits while the guests show progress (console, agent, cloud-init's stage): slow is not stuck. */
function whileProgressing<T>(what: string, vms: Vm[], poll: () => Promise<T | undefined>): Promise<T> {
  return untilProgress({
    what,
    vms,
    stallSeconds: Math.round(75 * scale()),
    hardSeconds: HARD_SECONDS,
    poll,
    sign: async (vm) =>
      (await vm.agent.sh("tr -d ' \\n' </run/cloud-init/status.json 2>/dev/null | head -c 400")).stdout,
  });
}

async function cloudInitDone(vm: Vm): Promise<void> {
  const result = await whileProgressing(`${vm.spec.name}: cloud-init to finish`, [vm], async () => {
    const r = await vm.agent.sh("cat /run/cloud-init/result.json");
    return r.code === 0 ? r.stdout : undefined;
  });
  const status = await vm.agent.sh("cloud-init status --long", 120_000);
  const errors = (JSON.parse(result) as { v1: { errors: string[] } }).v1.errors;
  assert.deepEqual(errors, [], `${vm.spec.name}: cloud-init finished without errors:\n${status.stdout}`);
  assert.match(status.stdout, /status: done/);
}

async function runPairs(c: PairCase, image: GuestImage, log: (m: string) => void): Promise<void> {
  const p = renderPairs(c.workload, c.params);
  const slot = await gate.acquire(2 * PAIRS);
  log(`${c.workload}: admitted: ${slot.why}`);
  const dir = mkdtempSync(join(tmpdir(), `virtwork-pairs-${c.workload}-`));
  const ports = new Map<string, number>();
  for (let s = 0; s < PAIRS; s++) for (let k = 0; k < PAIRS; k++) ports.set(`${s}-${k}`, await freePort());
  const vms: Vm[] = [];
  const servers: Vm[] = [];
  const clients: Vm[] = [];
  const t0 = Date.now();
  const boot = async (
    name: string,
    userData: string,
    nics: Nic[],
    ends: { mac: string; ip: string }[],
    vendorData?: string,
  ) => {
    const [nic, ...extraNics] = nics;
    assert.ok(nic);
    const vm = await startVm({
      name,
      dir: join(dir, name),
      image,
      userData,
      ...(vendorData ? { vendorData } : {}),
      networkConfig: networkConfig(ends),
      dataDisks: [],
      memMiB: 768,
      cpus: 1,
      nic,
      extraNics,
    });
    vms.push(vm);
    return vm;
  };
  try {
    // Servers listen on one link per client; clients connect to one link per server.
    for (let s = 0; s < PAIRS; s++) {
      const ends = [...Array(PAIRS).keys()].map((k) => link(s, k).server);
      const nics: Nic[] = ends.map((e, k) => ({
        kind: "socket",
        mode: "listen",
        port: ports.get(`${s}-${k}`) ?? 0,
        mac: e.mac,
      }));
      const name = `virtwork-${c.workload}-server-${s}`;
      servers.push(await boot(name, p.userData.get(`${name}-cloudinit`) ?? "", nics, ends));
    }
    for (let k = 0; k < PAIRS; k++) {
      const ends = [...Array(PAIRS).keys()].map((s) => link(s, k).client);
      const nics: Nic[] = ends.map((e, s) => ({
        kind: "socket",
        mode: "connect",
        port: ports.get(`${s}-${k}`) ?? 0,
        mac: e.mac,
      }));
      // Both servers' names resolve from every client, each to its end of this client's link.
      const hosts = p.serverHost.map((h, s): [string, string] => [h, link(s, k).server.ip]);
      const name = `virtwork-${c.workload}-client-${k}`;
      clients.push(
        await boot(name, p.userData.get(`${name}-cloudinit`) ?? "", nics, ends, hostsVendorData(hosts)),
      );
    }
    await whileProgressing(`${c.workload}: guest agents to answer`, vms, async () => {
      for (const vm of vms) if (!vm.agent.answered) await vm.agent.sync(10_000);
      return true;
    });
    for (const vm of vms) await cloudInitDone(vm);
    log(`${c.workload}: ${vms.length} guests up after ${((Date.now() - t0) / 1000).toFixed(0)}s`);

    for (const [k, client] of clients.entries()) {
      // The other server is reachable too: the choice is the client's, by name.
      for (const [s, host] of p.serverHost.entries()) {
        const r = await client.agent.sh(
          `timeout 10 bash -c ': </dev/tcp/${host}/${c.probePort}' 2>&1; echo "exit=$?"`,
        );
        assert.match(
          r.stdout,
          /Connection refused/,
          `client ${k} reaches server ${s} (${host}): ${r.stdout}`,
        );
      }
      await whileProgressing(`client ${k} to finish a round`, [client], async () => {
        const j = await sh(client, `journalctl -u ${p.unit.client} -o cat --no-pager`);
        return c.clientDone.test(j) ? j : undefined;
      });
    }
    for (const [s, server] of servers.entries()) {
      const peers = new Set((await sh(server, c.peers)).split("\n").filter(Boolean));
      log(`${c.workload}: server ${s} was reached by ${[...peers].join(", ") || "nobody"}`);
      assert.deepEqual([...peers], [link(s, s).client.ip], `server ${s} talks to client ${s} only`);
    }
  } finally {
    await Promise.all(vms.map((v) => v.stop()));
    slot.release();
    if (!keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
}

describe("two server/client pairs in booted Debian guests", { skip, concurrency: 1 }, () => {
  let image: GuestImage;
  before(() => {
    image = guestImage();
    setAccelSlow(accel(image).slow);
  });
  for (const c of CASES) {
    if (only && !only.includes(c.workload)) continue;
    test(`${c.workload}: client i talks to server i only`, { timeout: 2 * HARD_SECONDS * 1000 }, (t) =>
      runPairs(c, image, (m) => {
        t.diagnostic(m);
        console.log(`# ${m}`);
      }),
    );
  }
});
