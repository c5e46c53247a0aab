/**
 * `make sandbox` entry point: runs the VMI simulator in the foreground until Ctrl-C.
 *
 *   node --experimental-strip-types test/cluster/simulator/main.ts \
 *     [--kubeconfig .cluster/simulator.kubeconfig] [--namespace NS] [--delay-ms 2000] [--dv-delay-ms 5000]
 *     [--metrics-port 9910] [--silent VM[=guest]]...
 *
 * With --metrics-port it also serves virt-handler-shaped metrics of the Running VMIs on
 * 127.0.0.1 (metrics.ts); --silent keeps a VM's workload (or, with =guest, every counter) still.
 */
import { parseArgs } from "node:util";
import { type Silence, startMetrics } from "./metrics.ts";
import { startSimulator } from "./simulator.ts";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string", default: ".cluster/simulator.kubeconfig" },
    namespace: { type: "string" },
    "delay-ms": { type: "string", default: "2000" },
    "dv-delay-ms": { type: "string", default: "5000" },
    quiet: { type: "boolean", default: false },
    "metrics-port": { type: "string" },
    silent: { type: "string", multiple: true, default: [] },
  },
});

const step = Number(values["delay-ms"]);
const sim = await startSimulator({
  kubeconfig: values.kubeconfig,
  ...(values.namespace ? { namespace: values.namespace } : {}),
  // Without --namespace it watches all namespaces but those with a simulator of their own: the
  // integration tests' (it-*) and the cluster benchmark's (vwbench-*, whose timings a second
  // simulator would spoil).
  ...(values.namespace
    ? {}
    : { ignoreNamespace: (ns: string) => ns.startsWith("it-") || ns.startsWith("vwbench-") }),
  delays: { scheduled: step, running: step, dataVolume: Number(values["dv-delay-ms"]) },
  log: values.quiet
    ? undefined
    : (m) => process.stderr.write(`${new Date().toISOString()} simulator: ${m}\n`),
});
process.stderr.write(
  `simulator: watching VirtualMachines in ${values.namespace ?? "all namespaces"}; Ctrl-C to stop\n` +
    "simulator: point virtwork at the cluster with  export KUBECONFIG=$PWD/.cluster/kubeconfig\n",
);
const metrics =
  values["metrics-port"] === undefined
    ? undefined
    : await startMetrics({
        kubeconfig: values.kubeconfig,
        ...(values.namespace ? { namespace: values.namespace } : {}),
        port: Number(values["metrics-port"]),
        silent: Object.fromEntries(
          values.silent.map((s) => {
            const [vm = "", mode = "workload"] = s.split("=");
            return [vm, mode as Silence];
          }),
        ),
      });
if (metrics) process.stderr.write(`simulator: virt-handler-shaped metrics on ${metrics.url}\n`);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    void Promise.all([sim.stop(), metrics?.stop()]).then(() => process.exit(0));
  });
}
