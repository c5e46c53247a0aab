/**
 * The namespace like kubectl: flag > VIRTWORK_NAMESPACE > config file > the kubeconfig context's
 * namespace (the current one or --context) > the pod's namespace file > virtwork. Real kubeconfig
 * files, the built CLI's dry run.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { contextNamespace, POD_NAMESPACE_FILE } from "../../src/kube/context-namespace.ts";
import { virtwork } from "./cli.ts";

const dir = mkdtempSync(join(tmpdir(), "virtwork-ns-"));
const kubeconfig = join(dir, "kubeconfig");
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
current-context: team
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]
users: [{ name: u, user: { token: t } }]
contexts:
  - { name: team, context: { cluster: c, user: u, namespace: team-a } }
  - { name: limited, context: { cluster: c, user: u, namespace: limited-ns } }
  - { name: bare, context: { cluster: c, user: u } }
`,
);
const configFile = join(dir, "config.yaml");
writeFileSync(configFile, "namespace: from-file\n");

/** The namespace of the dry run's objects, and what the log says about where it came from. */
function dryRunNamespace(args: string[], env: Record<string, string> = {}) {
  const r = virtwork(["run", "--dry-run", "-o", "json", "-w", "cpu", ...args], {
    env: { KUBECONFIG: kubeconfig, ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { items: { kind: string; metadata: { namespace?: string } }[] };
  const vm = list.items.find((o) => o.kind === "VirtualMachine");
  const log = JSON.parse(r.stderr.trim().split("\n").at(-1) ?? "{}") as { namespace_from?: string };
  return { namespace: vm?.metadata.namespace, from: log.namespace_from };
}

test("each source wins over the ones after it, and the run says which one it used", () => {
  assert.deepEqual(
    dryRunNamespace(["-n", "flag-ns", "--config", configFile], { VIRTWORK_NAMESPACE: "env-ns" }),
    {
      namespace: "flag-ns",
      from: "--namespace",
    },
  );
  assert.deepEqual(dryRunNamespace(["--config", configFile], { VIRTWORK_NAMESPACE: "env-ns" }), {
    namespace: "env-ns",
    from: "VIRTWORK_NAMESPACE",
  });
  assert.equal(dryRunNamespace(["--config", configFile]).namespace, "from-file");
  assert.deepEqual(dryRunNamespace([]), { namespace: "team-a", from: "kubeconfig context team" });
  assert.deepEqual(dryRunNamespace(["--context", "limited"]), {
    namespace: "limited-ns",
    from: "kubeconfig context limited",
  });
  assert.deepEqual(dryRunNamespace(["--context", "bare"]), { namespace: "virtwork", from: "default" });
});

test("inside a pod without a kubeconfig: the service account's namespace file", () => {
  const files: Record<string, string> = { [POD_NAMESPACE_FILE]: "pod-ns\n" };
  const lookup = {
    env: { KUBERNETES_SERVICE_HOST: "10.0.0.1", HOME: dir },
    exists: (p: string) => p in files,
    readFile: (p: string) => files[p] ?? "",
  };
  assert.deepEqual(contextNamespace(lookup), {
    namespace: "pod-ns",
    source: `the pod's namespace (${POD_NAMESPACE_FILE})`,
  });
  assert.equal(contextNamespace({ ...lookup, env: { HOME: dir } }), undefined, "not in a pod");
});

test("an invalid namespace in the kubeconfig context is one usage error naming it", () => {
  const bad = join(dir, "bad");
  writeFileSync(bad, "current-context: x\ncontexts: [{ name: x, context: { namespace: Team_A } }]\n");
  const r = virtwork(["run", "--dry-run", "-w", "cpu"], { env: { KUBECONFIG: bad } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^Error: kubeconfig context x: namespace .*pass -n\/--namespace/);
});
