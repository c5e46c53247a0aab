/**
 * deploy/rbac.yaml grants exactly what the code asks the API server for. The verbs are derived
 * from src/: every KubeApi call site (api.create/get/list/delete/deleteCollection/watch/serves)
 * is found by a scan, and the resources of each are read from the code around it (the
 * RESOURCES it names, or the lists it iterates). A new call site fails this test until it is
 * described here, and a new resource in one of those lists fails it until RBAC grants it.
 * test/integration/incluster-deploy.test.ts checks the same rules against the requests the
 * built CLI really sends as the ServiceAccount.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { DEPLOY_DIR, type KubeObject, renderKustomization } from "../../scripts/render-deploy.ts";
import { RESOURCES, type ResourceName, resourceForKind } from "../../src/kube/resources.ts";
import { ROOT } from "./cli.ts";

type Grant = `${string}/${string}:${string}`; // group/resource:verb

const grant = (name: ResourceName, verb: string): Grant =>
  `${RESOURCES[name].group}/${RESOURCES[name].plural}:${verb}`;
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

/** The text of `function name(` … up to the next top-level function. */
function functionBody(source: string, name: string): string {
  const start = source.search(new RegExp(`function ${name}\\b`));
  assert.ok(start >= 0, `function ${name} exists`);
  const next = source.slice(start + 1).search(/\n(export )?(async )?function /);
  return next < 0 ? source.slice(start) : source.slice(start, start + 1 + next);
}

// --- what the code iterates over, read from the code ------------------------------------------
const cleanupSource = read("src/ops/cleanup-kinds.ts");
const cleanupKinds = [
  ...cleanupSource.matchAll(/\{ key: "\w+", resource: RESOURCES\.(\w+), collection: (true|false) \}/g),
].map((m) => ({ resource: m[1] as ResourceName, collection: m[2] === "true" }));
const foreignChecks = functionBody(read("src/ops/cleanup-namespace.ts"), "foreignObjects");
// The create steps of `virtwork run`, in src/ops/run.ts's step list.
const appliedKinds = [...read("src/ops/run.ts").matchAll(/createStep\("(\w+)"/g)].map((m) => m[1] as string);
const appliedResources = appliedKinds.map(
  (kind) =>
    (Object.keys(RESOURCES) as ResourceName[]).find(
      (n) => RESOURCES[n] === resourceForKind(kind),
    ) as ResourceName,
);
const waitSource = read("src/ops/wait.ts");
// The kinds the wait follows with kube/watch.ts listWatch (`follow<T>(RESOURCES.x, …)`), and the
// ones cleanup --wait follows with watchUntil (its KINDS): every list and watch in watch.ts.
const watchedKinds = [...waitSource.matchAll(/follow<\w+>\(RESOURCES\.(\w+)/g)].map(
  (m) => m[1] as ResourceName,
);
const listWatched = [...new Set([...watchedKinds, ...cleanupKinds.map((k) => k.resource)])];

/**
 * Every KubeApi call site in src/, and what it needs. `site` is a piece of the call's line;
 * `when` says on which path the call is made, for the ones this deployment never reaches.
 */
const CALL_SITES: { file: string; site: string; needs: Grant[]; when?: string }[] = [
  // src/ops/apply.ts
  {
    file: "src/ops/apply.ts",
    site: "ctx.api.serves(resource",
    needs: [], // discovery: non-resource URLs, readable by every authenticated user
  },
  { file: "src/ops/apply.ts", site: "ctx.api.get(RESOURCES.namespaces", needs: [grant("namespaces", "get")] },
  {
    file: "src/ops/apply.ts",
    site: "ctx.api.create(namespaceObject",
    needs: [grant("namespaces", "create")],
    when: "the target namespace does not exist",
  },
  {
    file: "src/ops/apply.ts",
    site: "ctx.api.create(target(obj)",
    needs: appliedResources.map((r) => grant(r, "create")),
  },
  {
    file: "src/ops/apply.ts",
    site: "const list = await ctx.api.list<KubeResource & Record<string, unknown>>(",
    needs: appliedResources.map((r) => grant(r, "list")),
  },
  {
    file: "src/ops/apply.ts",
    site: "const found = await ctx.api.list<KubeResource & Record<string, unknown>>(",
    needs: appliedResources.map((r) => grant(r, "list")),
  },
  // src/ops/inventory.ts
  {
    file: "src/ops/inventory.ts",
    site: "await api.list(resource, namespace, managedSelector(runId))",
    needs: [
      grant("services", "list"),
      grant("secrets", "list"),
      grant("virtualmachines", "list"),
      grant("datavolumes", "list"),
    ],
  },
  // src/kube/discovery.ts (cleanup --delete-namespace: every listable namespaced type)
  {
    file: "src/kube/discovery.ts",
    site: "await api.list<T>(resource, namespace, labelSelector)",
    needs: [grant("configmaps", "list"), grant("pods", "list")],
    when: "cleanup --delete-namespace of a namespace virtwork created (foreignObjects lists every type discovery serves)",
  },
  // src/kube/watch.ts listWatch, for src/ops/wait.ts waitForVms and src/ops/cleanup.ts waitUntilGone
  {
    file: "src/kube/watch.ts",
    site: "const list = await api.list<T>(",
    needs: listWatched.map((r) => grant(r, "list")),
  },
  { file: "src/kube/watch.ts", site: "api.watch<T>(", needs: listWatched.map((r) => grant(r, "watch")) },
  // src/ops/wait.ts: StorageClasses (cluster-scoped) when a DataVolume reports an unbound claim
  {
    file: "src/ops/wait.ts",
    site: "const list = await ctx.api.list<StorageClass>(",
    needs: [grant("storageclasses", "list")],
    when: "a DataVolume without a class reports an unbound claim (without the grant the wait relies on CDI's report)",
  },
  {
    file: "src/ops/wait.ts",
    site: "ctx.api.get(RESOURCES.storageclasses",
    needs: [grant("storageclasses", "get")],
    when: "a DataVolume on a named class reports an unbound claim (without the grant the wait relies on CDI's report)",
  },
  // src/ops/status.ts
  {
    file: "src/ops/status.ts",
    site: "api.list<KubeResource>(RESOURCES.virtualmachines",
    needs: [grant("virtualmachines", "list")],
  },
  {
    file: "src/ops/status.ts",
    site: "api.list<Vmi>(RESOURCES.virtualmachineinstances",
    needs: [grant("virtualmachineinstances", "list")],
  },
  // src/ops/run-id.ts: a short --run-id (status, cleanup, verify) is looked up in the run-id labels
  {
    file: "src/ops/run-id.ts",
    site: "api.list<KubeResource>(RESOURCES.virtualmachines",
    needs: [grant("virtualmachines", "list")],
    when: "--run-id is given as a short prefix (a full run id needs no lookup)",
  },
  {
    file: "src/ops/run-id.ts",
    site: "api.list<KubeResource>(RESOURCES.secrets",
    needs: [grant("secrets", "list")],
    when: "--run-id is given as a short prefix (a full run id needs no lookup)",
  },
  // src/ops/cleanup.ts
  {
    file: "src/ops/cleanup.ts",
    site: "api.list<KubeResource>(resource, namespace, selector)",
    needs: cleanupKinds.map((k) => grant(k.resource, "list")),
  },
  {
    file: "src/ops/cleanup.ts",
    site: "api.get<KubeResource>(RESOURCES.namespaces",
    needs: [grant("namespaces", "get")],
  },
  {
    file: "src/ops/cleanup.ts",
    site: "api.deleteCollection(resource",
    needs: cleanupKinds.filter((k) => k.collection).map((k) => grant(k.resource, "deletecollection")),
  },
  {
    file: "src/ops/cleanup.ts",
    // Services always; the others when their collection delete is refused.
    site: "ctx.api.delete(resource, item.name",
    needs: cleanupKinds.map((k) => grant(k.resource, "delete")),
  },
  {
    file: "src/ops/cleanup.ts",
    site: "api.delete(RESOURCES.namespaces",
    needs: [grant("namespaces", "delete")],
    when: "cleanup --delete-namespace of a namespace virtwork created",
  },
  // src/ops/cleanup-wait.ts: watchUntil runs the list + watch of kube/watch.ts (above) for the
  // cleanup kinds, and for the one namespace being deleted (cluster-scoped: list + watch).
  { file: "src/ops/cleanup-wait.ts", site: "watchUntil<KubeResource>(ctx.api", needs: [] },
  {
    file: "src/ops/cleanup-wait.ts",
    site: "watchUntil<NamespaceObject>(ctx.api",
    needs: [grant("namespaces", "list"), grant("namespaces", "watch")],
    when: "cleanup --delete-namespace --wait (waitForNamespaceGone) of a namespace virtwork created",
  },
  // src/kube/monitoring.ts: `virtwork verify` finding OpenShift's Thanos querier (the
  // in-cluster Job never runs verify)
  {
    file: "src/kube/monitoring.ts",
    site: "api.serves(RESOURCES.routes)",
    needs: [], // discovery
  },
  {
    file: "src/kube/monitoring.ts",
    site: "api.get<Route>(RESOURCES.routes",
    needs: [grant("routes", "get")],
    when: "virtwork verify without --prometheus-url",
  },
  {
    file: "src/kube/monitoring.ts",
    site: "api.get<ConfigMap>(RESOURCES.configmaps",
    needs: [grant("configmaps", "get")],
    when: "virtwork verify without --prometheus-url",
  },
];

/** Grants this deployment deliberately leaves out (deploy/rbac.yaml says why). */
const NOT_GRANTED = new Set<Grant>([
  grant("namespaces", "create"),
  grant("namespaces", "delete"),
  grant("namespaces", "list"),
  grant("namespaces", "watch"),
  grant("configmaps", "list"),
  grant("pods", "list"),
  grant("routes", "get"),
  grant("configmaps", "get"),
  grant("storageclasses", "list"),
  grant("storageclasses", "get"),
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

/** Every line of src/ that calls a KubeApi method (outside the KubeApi class itself). */
function scanCallSites(): { file: string; line: string }[] {
  const found: { file: string; line: string }[] = [];
  for (const path of sourceFiles(join(ROOT, "src"))) {
    const file = relative(ROOT, path);
    if (file === "src/kube/api.ts") continue;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      // watchUntil(api, …) lists and watches the resource it is given.
      if (
        /\bapi\.(create|get|list|delete|deleteCollection|watch|serves)\b\s*[<(]|\bwatchUntil<\w+>\(/.test(
          line,
        )
      )
        found.push({ file, line: line.trim() });
    }
  }
  return found;
}

function grantedByRole(objects: KubeObject[]): Set<Grant> {
  const out = new Set<Grant>();
  for (const o of objects.filter((x) => x.kind === "Role" || x.kind === "ClusterRole")) {
    for (const rule of (o.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) ?? []) {
      for (const g of rule.apiGroups)
        for (const r of rule.resources) for (const v of rule.verbs) out.add(`${g}/${r}:${v}`);
    }
  }
  return out;
}

describe("deploy/rbac.yaml against the code", () => {
  const sites = scanCallSites();

  test("the code's lists were found (cleanup kinds, foreign-object checks, applied kinds, watched kinds)", () => {
    assert.ok(cleanupKinds.length >= 5, "cleanup KINDS");
    assert.match(
      foreignChecks,
      /listableNamespacedResources\(api\)/,
      "foreignObjects lists every discovered type",
    );
    assert.deepEqual(appliedKinds, ["Service", "Secret", "VirtualMachine"]);
    assert.ok(appliedResources.every(Boolean));
    assert.ok(watchedKinds.includes("virtualmachineinstances"));
  });

  test("every KubeApi call in src/ is described above (a new one must be added, with its grant)", () => {
    for (const s of sites) {
      const described = CALL_SITES.filter((c) => c.file === s.file && s.line.includes(c.site));
      assert.equal(described.length, 1, `${s.file}: ${s.line}`);
    }
    for (const c of CALL_SITES) {
      assert.ok(
        sites.some((s) => s.file === c.file && s.line.includes(c.site)),
        `${c.file}: a call "${c.site}" still exists`,
      );
    }
  });

  test("the Role grants every verb the code uses, nothing more, except the documented exclusions", () => {
    const used = new Set(CALL_SITES.flatMap((c) => c.needs));
    const expected = [...used].filter((g) => !NOT_GRANTED.has(g)).sort();
    assert.deepEqual([...grantedByRole(renderKustomization(DEPLOY_DIR))].sort(), expected);
  });

  test("each exclusion is used only on a path this deployment does not take", () => {
    for (const g of NOT_GRANTED) {
      const users = CALL_SITES.filter((c) => c.needs.includes(g));
      assert.ok(users.length > 0, `${g} is still used by the code (else drop the exclusion)`);
      for (const c of users) assert.ok(c.when, `${g} is needed by ${c.file} ${c.site} on every path`);
    }
  });

  test("no cluster-wide grant at all", () => {
    const kinds = renderKustomization(DEPLOY_DIR).map((o) => o.kind);
    assert.ok(!kinds.includes("ClusterRole") && !kinds.includes("ClusterRoleBinding"));
  });

  test("every rule in deploy/rbac.yaml has a comment naming existing code that needs it", () => {
    const text = readFileSync(join(DEPLOY_DIR, "rbac.yaml"), "utf8");
    const pieces = text.split(/\n {2}- apiGroups:/);
    assert.equal(pieces.length - 1, 7, "seven rules");
    // The comment lines right above each rule (the end of the piece before it).
    for (let i = 0; i < pieces.length - 1; i++) {
      const lines = (pieces[i] ?? "").split("\n");
      const above: string[] = [];
      while (lines.length && /^\s*#/.test(lines.at(-1) ?? "")) above.unshift(lines.pop() ?? "");
      const files = [...above.join("\n").matchAll(/src\/[\w/.-]+\.ts/g)].map((m) => m[0]);
      assert.ok(files.length > 0, `rule ${i + 1} names the code that needs it`);
      for (const f of files) assert.ok(statSync(join(ROOT, f)).isFile(), f);
    }
  });
});
