/**
 * A virt-handler-shaped metrics endpoint for the simulator's VMIs: for each Running VMI it
 * serves, in Prometheus' text format, the per-VMI series KubeVirt's virt-handler exports
 * (same names, same labels: `name`, `namespace`, `node`, one `kubernetes_vmi_label_<key>` per
 * VMI label, plus `drive` / `interface` / `network` / `id` / `state` where KubeVirt has them).
 * There is no guest, so the values follow the workload the VMI's labels name
 * (`app.kubernetes.io/component`): cpu VMs accumulate vCPU time, memory VMs hold memory,
 * disk and database VMs write to their data disk, network and tps pairs transmit and
 * receive. Every VM adds a little operating-system noise (idle vCPU, root-disk writes).
 *
 * `setSilent(vm, "workload")` stops one VM's workload (noise goes on: what a dead unit in a
 * live guest looks like); `setSilent(vm, "guest")` freezes every counter (a hung guest).
 *
 *   const metrics = await startMetrics({ kubeconfig, namespace, silent: { "virtwork-disk-0": "workload" } });
 *   metrics.url   // http://127.0.0.1:<port>/metrics
 *
 * Counters are integrated over wall-clock time at each scrape, so they only ever grow, and
 * any number of scrapers see consistent values.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";

export type Silence = "workload" | "guest";

export interface MetricsOptions {
  /** kubeconfig file or loaded KubeConfig (reads VMIs only) */
  kubeconfig: string | k8s.KubeConfig;
  /** this namespace only (tests); all namespaces when omitted */
  namespace?: string;
  /** VM name → how it is silent */
  silent?: Record<string, Silence>;
  /** ms between VMI list refreshes (default 1000) */
  pollMs?: number;
  /** loopback port; 0 (default) lets the kernel choose */
  port?: number;
}

export interface MetricsEndpoint {
  url: string;
  setSilent(vmName: string, mode: Silence | undefined): void;
  /** VMIs currently served */
  served(): string[];
  stop(): Promise<void>;
}

interface Vmi {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    domain?: {
      cpu?: { cores?: number; sockets?: number; threads?: number };
      memory?: { guest?: string };
      resources?: { requests?: { memory?: string } };
      devices?: { disks?: { name: string }[]; interfaces?: { name: string }[] };
    };
    networks?: { name: string }[];
  };
  status?: { phase?: string; nodeName?: string };
}

/** Per-second rates a VM adds on top of the noise while its workload runs. */
interface Activity {
  /** vCPU seconds per second, per vCPU */
  vcpu: number;
  /** resident memory as a share of guest memory */
  memoryShare: number;
  dataWriteBytes: number;
  dataWriteOps: number;
  dataReadBytes: number;
  dataReadOps: number;
  txBytes: number;
  rxBytes: number;
}

const MiB = 1024 * 1024;
const NONE: Activity = {
  vcpu: 0,
  memoryShare: 0,
  dataWriteBytes: 0,
  dataWriteOps: 0,
  dataReadBytes: 0,
  dataReadOps: 0,
  txBytes: 0,
  rxBytes: 0,
};

/** What each built-in workload looks like from the host (roughly what a real guest shows). */
const WORKLOADS: Record<string, Partial<Activity>> = {
  cpu: { vcpu: 0.95 },
  memory: { vcpu: 0.3, memoryShare: 0.7 },
  disk: {
    vcpu: 0.2,
    dataWriteBytes: 40 * MiB,
    dataWriteOps: 1500,
    dataReadBytes: 30 * MiB,
    dataReadOps: 2000,
  },
  database: { vcpu: 0.4, dataWriteBytes: 3 * MiB, dataWriteOps: 350, dataReadBytes: MiB, dataReadOps: 100 },
  network: { vcpu: 0.3, txBytes: 110 * MiB, rxBytes: 110 * MiB },
  tps: { vcpu: 0.2, txBytes: 4 * MiB, rxBytes: 4 * MiB },
  "chaos-disk": { dataWriteBytes: 8 * 1024, dataWriteOps: 0.8 },
  "chaos-network": {},
  "chaos-process": {},
};

/** The operating system alone: idle vCPUs, a little logging on the root disk, ARP/NTP. */
const NOISE = { vcpu: 0.015, memoryShare: 0.12, rootWriteBytes: 16 * 1024, rootWriteOps: 2, netBytes: 300 };

const COMPONENT = "app.kubernetes.io/component";

function quantityBytes(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q ?? "");
  if (!m) return 2 * 1024 ** 3;
  const mult: Record<string, number> = {
    Ki: 1024,
    Mi: MiB,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(m[1]) * (m[2] ? (mult[m[2]] ?? 1) : 1);
}

function labelKey(key: string): string {
  return `kubernetes_vmi_label_${key.replace(/[./-]/g, "_")}`;
}

function escapeValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

interface State {
  vmi: Vmi;
  last: number;
  counters: Map<string, number>;
}

export async function startMetrics(opts: MetricsOptions): Promise<MetricsEndpoint> {
  const kc = typeof opts.kubeconfig === "string" ? new k8s.KubeConfig() : opts.kubeconfig;
  if (typeof opts.kubeconfig === "string") kc.loadFromFile(opts.kubeconfig);
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const silent = new Map<string, Silence>(Object.entries(opts.silent ?? {}));
  const states = new Map<string, State>();
  let stopped = false;

  async function refresh(): Promise<void> {
    const group = { group: "kubevirt.io", version: "v1", plural: "virtualmachineinstances" };
    const list = (await (opts.namespace
      ? api.listNamespacedCustomObject({ ...group, namespace: opts.namespace })
      : api.listClusterCustomObject(group))) as { items: Vmi[] };
    const seen = new Set<string>();
    for (const vmi of list.items) {
      if (vmi.status?.phase !== "Running") continue;
      const key = `${vmi.metadata.namespace ?? ""}/${vmi.metadata.name}`;
      seen.add(key);
      const cur = states.get(key);
      if (cur) cur.vmi = vmi;
      else states.set(key, { vmi, last: Date.now(), counters: new Map() });
    }
    // a VMI that is gone or no longer Running stops being exported, as with virt-handler
    for (const key of states.keys()) if (!seen.has(key)) states.delete(key);
  }

  let poll: NodeJS.Timeout | undefined;
  const loop = async () => {
    try {
      await refresh();
    } catch {
      // the next poll retries; a scrape serves what is known
    }
    if (!stopped) poll = setTimeout(loop, opts.pollMs ?? 1000);
  };
  await refresh();
  poll = setTimeout(loop, opts.pollMs ?? 1000);

  function render(): string {
    const now = Date.now();
    const families = new Map<string, { type: string; help: string; lines: string[] }>();
    const emit = (
      metric: string,
      type: "counter" | "gauge",
      help: string,
      labels: Record<string, string>,
      v: number,
    ) => {
      let f = families.get(metric);
      if (!f) {
        f = { type, help, lines: [] };
        families.set(metric, f);
      }
      const ls = Object.entries(labels)
        .map(([k, val]) => `${k}="${escapeValue(val)}"`)
        .join(",");
      f.lines.push(`${metric}{${ls}} ${Number.isInteger(v) ? v : v.toFixed(6)}`);
    };
    for (const st of states.values()) {
      const { vmi } = st;
      const mode = silent.get(vmi.metadata.name);
      const dt = mode === "guest" ? 0 : Math.max(0, (now - st.last) / 1000);
      st.last = now;
      const work: Activity = {
        ...NONE,
        ...(mode ? {} : (WORKLOADS[vmi.metadata.labels?.[COMPONENT] ?? ""] ?? {})),
      };
      const add = (key: string, perSecond: number) => {
        const v = (st.counters.get(key) ?? 0) + perSecond * dt;
        st.counters.set(key, v);
        return v;
      };
      const base: Record<string, string> = {
        name: vmi.metadata.name,
        namespace: vmi.metadata.namespace ?? "",
        node: vmi.status?.nodeName ?? "",
      };
      for (const [k, v] of Object.entries(vmi.metadata.labels ?? {})) base[labelKey(k)] = v;
      const cpu = vmi.spec?.domain?.cpu;
      const vcpus = Math.max(1, (cpu?.cores ?? 1) * (cpu?.sockets ?? 1) * (cpu?.threads ?? 1));
      let vcpuTotal = 0;
      for (let id = 0; id < vcpus; id++) {
        const v = add(`vcpu${id}`, NOISE.vcpu + work.vcpu);
        vcpuTotal += v;
        emit(
          "kubevirt_vmi_vcpu_seconds_total",
          "counter",
          "Total amount of time spent in each state by each vcpu (cpu_time excluding hypervisor time).",
          { ...base, id: String(id), state: "running" },
          v,
        );
      }
      emit(
        "kubevirt_vmi_cpu_usage_seconds_total",
        "counter",
        "Total CPU time spent in all modes (sum of both vcpu and hypervisor usage).",
        base,
        vcpuTotal * 1.05,
      );
      const guest = quantityBytes(
        vmi.spec?.domain?.memory?.guest ?? vmi.spec?.domain?.resources?.requests?.memory,
      );
      emit(
        "kubevirt_vmi_memory_domain_bytes",
        "gauge",
        "The amount of memory in bytes allocated to the domain.",
        base,
        guest,
      );
      const share =
        mode === "guest" ? NOISE.memoryShare : Math.min(0.98, NOISE.memoryShare + work.memoryShare);
      emit(
        "kubevirt_vmi_memory_resident_bytes",
        "gauge",
        "Resident set size of the process running the domain.",
        base,
        Math.round(guest * share),
      );
      for (const disk of vmi.spec?.domain?.devices?.disks ?? []) {
        const root = disk.name === "containerdisk";
        const data = !root && disk.name !== "cloudinitdisk";
        const rates = {
          wb: root ? NOISE.rootWriteBytes : data ? work.dataWriteBytes : 0,
          wo: root ? NOISE.rootWriteOps : data ? work.dataWriteOps : 0,
          rb: data ? work.dataReadBytes : 0,
          ro: data ? work.dataReadOps : 0,
        };
        const labels = { ...base, drive: disk.name };
        const c = (k: string, r: number) => add(`${disk.name}:${k}`, r);
        emit(
          "kubevirt_vmi_storage_write_traffic_bytes_total",
          "counter",
          "Total number of written bytes.",
          labels,
          Math.round(c("wb", rates.wb)),
        );
        emit(
          "kubevirt_vmi_storage_iops_write_total",
          "counter",
          "Total number of I/O write operations.",
          labels,
          Math.floor(c("wo", rates.wo)),
        );
        emit(
          "kubevirt_vmi_storage_read_traffic_bytes_total",
          "counter",
          "Total number of bytes read from storage.",
          labels,
          Math.round(c("rb", rates.rb)),
        );
        emit(
          "kubevirt_vmi_storage_iops_read_total",
          "counter",
          "Total number of I/O read operations.",
          labels,
          Math.floor(c("ro", rates.ro)),
        );
      }
      const networks = vmi.spec?.networks ?? [];
      (vmi.spec?.domain?.devices?.interfaces ?? []).forEach((iface, i) => {
        const labels = { ...base, interface: iface.name, network: networks[i]?.name ?? iface.name };
        emit(
          "kubevirt_vmi_network_transmit_bytes_total",
          "counter",
          "Total network traffic transmitted in bytes.",
          labels,
          Math.round(add(`${iface.name}:tx`, NOISE.netBytes + work.txBytes)),
        );
        emit(
          "kubevirt_vmi_network_receive_bytes_total",
          "counter",
          "Total network traffic received in bytes.",
          labels,
          Math.round(add(`${iface.name}:rx`, NOISE.netBytes + work.rxBytes)),
        );
      });
    }
    let out = "";
    for (const [name, f] of families) {
      out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n${f.lines.join("\n")}\n`;
    }
    return out;
  }

  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || !req.url?.startsWith("/metrics")) {
      res.writeHead(404).end("not found\n");
      return;
    }
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(render());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/metrics`,
    setSilent(vmName, mode) {
      if (mode) silent.set(vmName, mode);
      else silent.delete(vmName);
    },
    served: () => [...states.keys()].sort(),
    async stop() {
      stopped = true;
      if (poll) clearTimeout(poll);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
