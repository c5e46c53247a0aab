/**
 * `make sandbox` entry point: runs the VMI simulator in the foreground until Ctrl-C.
 *
 *   node --experimental-strip-types test/cluster/simulator/main.ts \
 *     [--kubeconfig .cluster/simulator.kubeconfig] [--namespace NS] [--delay-ms 2000] [--dv-delay-ms 5000]
 */
import { parseArgs } from "node:util";
import { startSimulator } from "./simulator.ts";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string", default: ".cluster/simulator.kubeconfig" },
    namespace: { type: "string" },
    "delay-ms": { type: "string", default: "2000" },
    "dv-delay-ms": { type: "string", default: "5000" },
    quiet: { type: "boolean", default: false },
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
  delays: { scheduling: step, scheduled: step, running: step, dataVolume: Number(values["dv-delay-ms"]) },
  log: values.quiet
    ? undefined
    : (m) => process.stderr.write(`${new Date().toISOString()} simulator: ${m}\n`),
});
process.stderr.write(
  `simulator: watching VirtualMachines in ${values.namespace ?? "all namespaces"}; Ctrl-C to stop\n` +
    "simulator: point virtwork at the cluster with  export KUBECONFIG=$PWD/.cluster/kubeconfig\n",
);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    void sim.stop().then(() => process.exit(0));
  });
}
