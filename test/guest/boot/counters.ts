/**
 * The counters behind KubeVirt's per-VMI metrics, read from a booted guest's qemu the way
 * libvirt reads them for virt-handler:
 *
 * | metric (signals.ts)                               | here                                            |
 * |---------------------------------------------------|-------------------------------------------------|
 * | kubevirt_vmi_vcpu_seconds_total                   | the vCPU threads' utime+stime (query-cpus-fast → /proc/<pid>/task/<tid>/stat) |
 * | kubevirt_vmi_storage_write_traffic_bytes_total    | query-blockstats wr_bytes of the data disk       |
 * | kubevirt_vmi_storage_iops_write_total             | query-blockstats wr_operations of the data disk  |
 * | kubevirt_vmi_memory_resident_bytes (/ domain)     | qemu's VmRSS / the guest's memory                |
 * | kubevirt_vmi_network_{transmit,receive}_bytes_total | the guest NIC's byte counters (through the agent; libvirt reads the host end of the same link) |
 */
import { readFileSync } from "node:fs";
import type { Signal } from "../../../src/workloads/signals.ts";
import type { Vm } from "./qemu.ts";

const CLK_TCK = 100;

export interface Counters {
  at: number;
  vcpuSeconds: number;
  /** data disks (qemu drive ids data0, data1, …) */
  dataWriteBytes: number;
  dataWriteOps: number;
  residentBytes: number;
  guestBytes: number;
  txBytes: number;
  rxBytes: number;
}

export async function readCounters(vm: Vm): Promise<Counters> {
  const cpus = await vm.qmp.execute<{ "thread-id": number }[]>("query-cpus-fast");
  let ticks = 0;
  for (const c of cpus) {
    const stat = readFileSync(`/proc/${vm.pid}/task/${c["thread-id"]}/stat`, "utf8");
    // fields after the ")" of comm: state is field 3, utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(rest[11]) + Number(rest[12]);
  }
  const blocks =
    await vm.qmp.execute<{ device: string; stats: { wr_bytes: number; wr_operations: number } }[]>(
      "query-blockstats",
    );
  const data = blocks.filter((b) => /^data\d+$/.test(b.device));
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${vm.pid}/status`, "utf8"))?.[1];
  const nic = await vm.agent.sh(
    'for d in /sys/class/net/*; do [ "$(basename "$d")" = lo ] && continue; cat "$d/statistics/tx_bytes" "$d/statistics/rx_bytes"; done',
    30_000,
  );
  const nums = nic.stdout.trim().split("\n").filter(Boolean).map(Number);
  return {
    at: Date.now(),
    vcpuSeconds: ticks / CLK_TCK,
    dataWriteBytes: data.reduce((s, b) => s + b.stats.wr_bytes, 0),
    dataWriteOps: data.reduce((s, b) => s + b.stats.wr_operations, 0),
    residentBytes: Number(rss ?? 0) * 1024,
    guestBytes: vm.spec.memMiB * 1024 * 1024,
    txBytes: nums.filter((_, i) => i % 2 === 0).reduce((s, v) => s + v, 0),
    rxBytes: nums.filter((_, i) => i % 2 === 1).reduce((s, v) => s + v, 0),
  };
}

/** The counter a signal's metric comes from; `gauge` ones are compared as they are, not by change. */
export function counterOf(s: Signal): { key: keyof Counters; gauge?: boolean } | undefined {
  switch (s.metric) {
    case "kubevirt_vmi_vcpu_seconds_total":
      return { key: "vcpuSeconds" };
    case "kubevirt_vmi_storage_write_traffic_bytes_total":
      return { key: "dataWriteBytes" };
    case "kubevirt_vmi_storage_iops_write_total":
      return { key: "dataWriteOps" };
    case "kubevirt_vmi_memory_resident_bytes":
      return { key: "residentBytes", gauge: true };
    case "kubevirt_vmi_network_transmit_bytes_total":
      return { key: "txBytes" };
    case "kubevirt_vmi_network_receive_bytes_total":
      return { key: "rxBytes" };
    default:
      return undefined;
  }
}
