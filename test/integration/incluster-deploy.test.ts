/**
 * virtwork deployed in-cluster, end to end on the local test cluster, without a container
 * engine or kubectl:
 *   1. the Containerfile's steps (COPY/RUN of the build stage, COPY --from of the runtime
 *      stage) run in a temp dir and give the image's file tree; its ENTRYPOINT is what runs
 *      below;
 *   2. deploy/ rendered by scripts/render-deploy.ts into a test namespace: every object passes
 *      a server-side dry run, then is applied for real (server-side apply);
 *   3. a token for the ServiceAccount (TokenRequest API) in a kubeconfig of its own; the CLI
 *      runs with the Job's and the CronJob's arguments and environment (ConfigMap, Secret,
 *      VIRTWORK_NAMESPACE from the pod's namespace, the audit volume) — run, status, cleanup;
 *   4. every request the CLI sent passes through a recording proxy: the (resource, verb) set
 *      equals the Role's rules exactly, and requests outside them get 403.
 * What is not reproduced here: a kubelet (the Job is not started by the cluster) and the
 * pod's mounted token (connect.ts's in-cluster branch): the CLI gets the same token through
 * VIRTWORK_KUBECONFIG instead.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type KubeObject, renderKustomization } from "../../scripts/render-deploy.ts";
import {
  type ClusterInfo,
  closeAll,
  newNamespace,
  REPO_ROOT,
  rawRequest,
  startCluster,
  type TestNamespace,
} from "./harness.ts";

const work = mkdtempSync(join(tmpdir(), "virtwork-incluster-"));
const servers: http.Server[] = [];
after(async () => {
  for (const s of servers) s.close();
  await closeAll();
  rmSync(work, { recursive: true, force: true });
});

// ---- 1. the Containerfile's steps without a container engine --------------------------------

interface Step {
  op: string;
  args: string;
}

function containerfileStages(): Step[][] {
  const stages: Step[][] = [];
  let pending = "";
  for (const raw of readFileSync(join(REPO_ROOT, "Containerfile"), "utf8").split("\n")) {
    if (/^\s*#/.test(raw)) continue;
    const line = pending + raw.trim();
    if (line.endsWith("\\")) {
      pending = `${line.slice(0, -1).trim()} `;
      continue;
    }
    pending = "";
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const step = { op: (m[1] as string).toUpperCase(), args: m[2] as string };
    if (step.op === "FROM") stages.push([]);
    stages.at(-1)?.push(step);
  }
  return stages;
}

function exec(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? work, env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/**
 * Plays the Containerfile: each stage gets its own root under `work`; COPY from the context
 * copies from the repository, COPY --from=<stage> from that stage's root, RUN runs `sh -c` in
 * the stage's WORKDIR with its ARG/ENV (Node is the test's own, the version the FROM pins).
 * Returns the runtime stage's root, ENTRYPOINT (paths mapped into the root) and ENV.
 */
async function buildWithoutEngine(): Promise<{
  root: string;
  entrypoint: string[];
  env: Record<string, string>;
}> {
  const roots = new Map<string, string>();
  let result: { root: string; entrypoint: string[]; env: Record<string, string> } | undefined;
  for (const [index, stage] of containerfileStages().entries()) {
    const root = join(work, `stage-${index}`);
    mkdirSync(root, { recursive: true });
    const alias = /\bAS\s+(\S+)$/i.exec(stage[0]?.args ?? "")?.[1];
    if (alias) roots.set(alias, root);
    let workdir = "/";
    const env: Record<string, string> = {};
    let entrypoint: string[] = [];
    const inRoot = (p: string) => join(root, isAbsolute(p) ? p : join(workdir, p));
    for (const step of stage.slice(1)) {
      if (step.op === "WORKDIR") {
        workdir = step.args;
        mkdirSync(inRoot("."), { recursive: true });
      } else if (step.op === "ARG" || step.op === "ENV") {
        const [k, v = ""] = step.args.split("=");
        env[k as string] = v;
      } else if (step.op === "COPY") {
        const words = step.args.split(/\s+/);
        const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
        const paths = words.filter((w) => !w.startsWith("--"));
        const dest = paths.pop() as string;
        for (const src of paths) {
          const source = from ? join(roots.get(from) as string, src) : join(REPO_ROOT, src);
          const target =
            dest.endsWith("/") && !src.endsWith("/")
              ? join(inRoot(dest), src.split("/").pop() as string)
              : inRoot(dest);
          mkdirSync(dirname(target), { recursive: true });
          cpSync(source, target, {
            recursive: true,
            // .dockerignore: unit tests stay out of the context
            filter: (f) => !f.endsWith(".test.ts"),
          });
        }
      } else if (step.op === "RUN") {
        const r = await exec("sh", ["-c", step.args], {
          cwd: inRoot("."),
          env: { ...process.env, ...env },
          timeoutMs: 600_000,
        });
        assert.equal(r.code, 0, `RUN ${step.args}\n${r.stderr.slice(-3000)}`);
      } else if (step.op === "ENTRYPOINT") {
        entrypoint = JSON.parse(step.args) as string[];
      }
    }
    result = {
      root,
      entrypoint: entrypoint.map((a, i) => (i > 0 && a.startsWith("/") ? join(root, a) : a)),
      env,
    };
  }
  assert.ok(result);
  return result;
}

// ---- a recording proxy between the CLI and the API server ------------------------------------

interface Recorded {
  method: string;
  path: string;
  status: number;
}

function startRecordingProxy(cluster: ClusterInfo): Promise<{ url: string; requests: Recorded[] }> {
  const upstream = new URL(cluster.server);
  const ca = readFileSync(cluster.caFile);
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const out = https.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        ca,
      },
      (answer) => {
        requests.push({ method: req.method ?? "", path: req.url ?? "", status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    res.on("close", () => out.destroy());
    req.pipe(out);
  });
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests });
    });
  });
}

/** What RBAC sees in a request (the API server's RequestInfo, for the paths virtwork uses). */
function requestInfo(method: string, path: string): { grant?: string; nonResource?: string } {
  const url = new URL(path, "http://x");
  const parts = url.pathname.split("/").filter(Boolean);
  const [group, rest] =
    parts[0] === "api"
      ? ["", parts.slice(2)]
      : parts[0] === "apis"
        ? [parts[1] ?? "", parts.slice(3)]
        : ["", []];
  if (rest.length === 0) return { nonResource: url.pathname };
  const scoped = rest[0] === "namespaces" && rest.length >= 3 ? rest.slice(2) : rest;
  const [resource, name] = scoped;
  const verb =
    method === "GET"
      ? name
        ? "get"
        : url.searchParams.get("watch") === "true"
          ? "watch"
          : "list"
      : method === "POST"
        ? "create"
        : method === "DELETE"
          ? name
            ? "delete"
            : "deletecollection"
          : method === "PUT"
            ? "update"
            : "patch";
  return { grant: `${group}/${resource}:${verb}` };
}

function rulesOf(objects: KubeObject[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects.filter((x) => x.kind === "Role")) {
    for (const rule of o.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
      for (const g of rule.apiGroups)
        for (const r of rule.resources) for (const v of rule.verbs) out.add(`${g}/${r}:${v}`);
    }
  }
  return out;
}

/** The URL path of an object (plural from discovery). */
async function objectPath(obj: KubeObject): Promise<string> {
  const gv = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const discovery = (await rawRequest("GET", gv)).json() as {
    resources: { name: string; kind: string; namespaced: boolean }[];
  };
  const r = discovery.resources.find((x) => x.kind === obj.kind && !x.name.includes("/"));
  assert.ok(r, `${obj.kind} is served`);
  const ns = r.namespaced ? `/namespaces/${obj.metadata.namespace}` : "";
  return `${gv}${ns}/${r.name}/${obj.metadata.name}`;
}

async function tokenRequest(
  server: string,
  caFile: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      new URL(path, server),
      {
        method,
        ca: readFileSync(caFile),
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "application/json",
          ...(payload
            ? { "Content-Type": method === "PATCH" ? "application/merge-patch+json" : "application/json" }
            : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

// ---- the scenario ---------------------------------------------------------------------------

describe("in-cluster deployment: Containerfile + deploy/ + the ServiceAccount's RBAC", () => {
  let cluster: ClusterInfo;
  let ns: TestNamespace;
  let other: TestNamespace;
  let objects: KubeObject[];
  let image: { root: string; entrypoint: string[]; env: Record<string, string> };
  let token = "";
  let proxy: { url: string; requests: Recorded[] };
  let proxyKubeconfig = "";
  let directKubeconfig = "";
  const dataDir = join(work, "data"); // the audit volume
  const homeDir = join(work, "home"); // no ~/.kube/config there

  const podSpec = (kind: "Job" | "CronJob") => {
    type Template = { template: { spec: unknown } };
    const o = objects.find((x) => x.kind === kind) as KubeObject & {
      spec: Template & { jobTemplate: { spec: Template } };
    };
    const spec = kind === "CronJob" ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
    return spec as {
      containers: {
        args: string[];
        envFrom: { configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }[];
      }[];
    };
  };

  /** The container's environment as the kubelet would build it, and its command line. */
  const asPod = (kind: "Job" | "CronJob", kubeconfig: string, extraArgs: string[] = []) => {
    const container = podSpec(kind).containers[0];
    assert.ok(container);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith("VIRTWORK_") && k !== "KUBECONFIG") env[k] = v;
    }
    Object.assign(env, image.env, { HOME: homeDir });
    for (const from of container.envFrom) {
      const ref = from.configMapRef ?? from.secretRef;
      const source = objects.find(
        (o) => o.kind === (from.configMapRef ? "ConfigMap" : "Secret") && o.metadata.name === ref?.name,
      );
      if (!source && from.secretRef?.optional) continue;
      assert.ok(source, `${ref?.name} is rendered`);
      Object.assign(env, (source.data ?? source.stringData) as Record<string, string>);
    }
    env.VIRTWORK_NAMESPACE = ns.name; // fieldRef metadata.namespace
    env.VIRTWORK_AUDIT_DB = (env.VIRTWORK_AUDIT_DB ?? "").replace(/^\/data\//, `${dataDir}/`);
    env.VIRTWORK_KUBECONFIG = kubeconfig; // stands in for the mounted service-account token
    const [node, ...entry] = image.entrypoint;
    return {
      cmd: node === "node" ? process.execPath : (node as string),
      args: [...entry, ...container.args, ...extraArgs],
      env,
    };
  };

  before(async () => {
    cluster = await startCluster();
    ns = await newNamespace({ prefix: "incluster" });
    other = await newNamespace({ prefix: "incluster-other" });
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(homeDir, { recursive: true });
    objects = renderKustomization(join(REPO_ROOT, "deploy"), { namespace: ns.name });
  });

  test("1. the Containerfile's build steps, run without a container engine, give a working CLI", async () => {
    image = await buildWithoutEngine();
    assert.ok(existsSync(join(image.root, "opt/virtwork/dist/virtwork.mjs")));
    assert.ok(!existsSync(join(image.root, "opt/virtwork/node_modules")), "no node_modules in the image");
    const [node, ...entry] = image.entrypoint;
    assert.equal(node, "node");
    const version = await exec(process.execPath, [...entry, "version"], { cwd: image.root });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^virtwork 0\.1\.0/);
    const plan = await exec(process.execPath, [...entry, "run", "--dry-run", "-o", "json"], {
      cwd: image.root,
    });
    assert.equal(plan.code, 0, plan.stderr);
    assert.ok((JSON.parse(plan.stdout) as { items: unknown[] }).items.length > 10);
  });

  test("2. every rendered object passes a server-side dry run, then applies (server-side apply)", async () => {
    for (const dryRun of [true, false]) {
      for (const obj of objects) {
        const path = await objectPath(obj);
        const res = await rawRequest(
          "PATCH",
          `${path}?fieldManager=virtwork-deploy-test&force=true&fieldValidation=Strict${dryRun ? "&dryRun=All" : ""}`,
          { body: obj, contentType: "application/apply-patch+yaml" },
        );
        assert.ok(
          res.status === 200 || res.status === 201,
          `${dryRun ? "dry run" : "apply"} ${obj.kind}/${obj.metadata.name}: ${res.status} ${res.body}`,
        );
        if (dryRun && obj.kind !== "Namespace") {
          assert.equal((await rawRequest("GET", path)).status, 404, "a dry run persists nothing");
        }
      }
    }
    const job = (
      await rawRequest("GET", await objectPath(objects.find((o) => o.kind === "Job") as KubeObject))
    ).json() as {
      spec: { template: { spec: { serviceAccountName: string } } };
    };
    assert.equal(job.spec.template.spec.serviceAccountName, "virtwork");
  });

  test("3. a token for the ServiceAccount (TokenRequest) in a kubeconfig of its own", async () => {
    const res = await rawRequest("POST", `/api/v1/namespaces/${ns.name}/serviceaccounts/virtwork/token`, {
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 3600 },
      },
    });
    assert.equal(res.status, 201, res.body);
    token = (res.json() as { status: { token: string } }).status.token;
    const review = await rawRequest("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
    });
    const user = (review.json() as { status: { user: { username: string } } }).status.user.username;
    assert.equal(user, `system:serviceaccount:${ns.name}:virtwork`);

    proxy = await startRecordingProxy(cluster);
    const kubeconfig = (server: string, withCa: boolean) =>
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        // The proxy speaks plain HTTP on loopback (the client library wants that said explicitly).
        `- name: test\n  cluster:\n    server: ${server}\n    ${withCa ? `certificate-authority-data: ${readFileSync(cluster.caFile).toString("base64")}` : "insecure-skip-tls-verify: true"}`,
        "users:",
        `- name: virtwork\n  user:\n    token: ${token}`,
        "contexts:",
        `- name: virtwork\n  context:\n    cluster: test\n    user: virtwork\n    namespace: ${ns.name}`,
        "current-context: virtwork",
        "",
      ].join("\n");
    proxyKubeconfig = join(work, "sa-proxy.kubeconfig");
    directKubeconfig = join(work, "sa.kubeconfig");
    writeFileSync(proxyKubeconfig, kubeconfig(proxy.url, false), { mode: 0o600 });
    writeFileSync(directKubeconfig, kubeconfig(cluster.server, true), { mode: 0o600 });
  });

  let runId = "";

  test("4. run as the ServiceAccount, with the Job's arguments and environment: VMs created and running", async () => {
    await ns.simulate({ delays: { scheduled: 100, running: 100, dataVolume: 200 } });
    const pod = asPod("Job", proxyKubeconfig);
    const r = await exec(pod.cmd, pod.args, { env: pod.env, timeoutMs: 180_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr.slice(-4000)}`);
    const vms = (
      await rawRequest("GET", `/apis/kubevirt.io/v1/namespaces/${ns.name}/virtualmachines`)
    ).json() as { items: { metadata: { labels: Record<string, string> } }[] };
    assert.equal(vms.items.length, 8, "the ConfigMap's six workloads: 8 VMs");
    runId = vms.items[0]?.metadata.labels["virtwork/run-id"] ?? "";
    assert.ok(runId);
  });

  test("5. status as the ServiceAccount: every VM Running", async () => {
    for (const kubeconfig of [proxyKubeconfig, directKubeconfig]) {
      const pod = asPod("Job", kubeconfig);
      const args = pod.args.slice(0, -(podSpec("Job").containers[0]?.args.length ?? 0));
      const r = await exec(pod.cmd, [...args, "status", "-o", "json"], { env: pod.env });
      assert.equal(r.code, 0, r.stderr);
      const rows = JSON.parse(r.stdout) as { phase: string; runId: string }[];
      assert.equal(rows.length, 8);
      assert.ok(
        rows.every((row) => row.phase === "Running" && row.runId === runId),
        r.stdout,
      );
    }
  });

  test("6. cleanup as the ServiceAccount, the CronJob's command: everything labelled goes, deploy/ stays", async () => {
    // A claim as CDI leaves it behind a DataVolume, labelled, so the PVC rule is exercised too.
    const pvc = await rawRequest("POST", `/api/v1/namespaces/${ns.name}/persistentvolumeclaims`, {
      body: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: {
          name: "leftover-claim",
          labels: { "app.kubernetes.io/managed-by": "virtwork", "virtwork/run-id": runId },
        },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
    });
    assert.equal(pvc.status, 201, pvc.body);
    // No pvc-protection controller runs here: drop its finalizer once the claim is deleted.
    let cliDone = false;
    const unblock = (async () => {
      const claim = `/api/v1/namespaces/${ns.name}/persistentvolumeclaims/leftover-claim`;
      while (!cliDone) {
        const res = await rawRequest("GET", claim);
        if (res.status === 404) return;
        if ((res.json() as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp) {
          await rawRequest("PATCH", claim, {
            body: { metadata: { finalizers: null } },
            contentType: "application/merge-patch+json",
          });
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const pod = asPod("CronJob", proxyKubeconfig);
    assert.ok(pod.args.includes("--yes"));
    const r = await exec(pod.cmd, pod.args, { env: pod.env, timeoutMs: 180_000 });
    cliDone = true;
    await unblock;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr.slice(-4000)}`);
    assert.match(r.stdout, /Deleted/);
    for (const path of [
      `/apis/kubevirt.io/v1/namespaces/${ns.name}/virtualmachines`,
      `/apis/cdi.kubevirt.io/v1beta1/namespaces/${ns.name}/datavolumes`,
      `/api/v1/namespaces/${ns.name}/services`,
      `/api/v1/namespaces/${ns.name}/persistentvolumeclaims?labelSelector=app.kubernetes.io/managed-by%3Dvirtwork`,
      `/api/v1/namespaces/${ns.name}/secrets?labelSelector=app.kubernetes.io/managed-by%3Dvirtwork`,
    ]) {
      assert.deepEqual(
        (((await rawRequest("GET", path)).json() as { items: unknown[] }).items ?? []).length,
        0,
        path,
      );
    }
    for (const obj of objects) {
      assert.equal(
        (await rawRequest("GET", await objectPath(obj))).status,
        200,
        `${obj.kind}/${obj.metadata.name} is kept`,
      );
    }
  });

  test("7. the requests the CLI sent are exactly the Role's rules (every rule used, nothing else)", () => {
    const used = new Set<string>();
    const nonResource = new Set<string>();
    for (const req of proxy.requests) {
      assert.notEqual(req.status, 403, `${req.method} ${req.path} was forbidden`);
      const info = requestInfo(req.method, req.path);
      if (info.grant) used.add(info.grant);
      if (info.nonResource) nonResource.add(`${req.method} ${info.nonResource}`);
    }
    // Granted for paths this deployment takes only when something goes wrong: one DELETE per
    // object when a collection delete is refused, and the watch of `cleanup --wait` when the
    // deleted objects do not go at once (test/unit/deploy-rbac.test.ts ties them to the code).
    const onFailureOnly = new Set([
      ...[
        "/secrets",
        "/persistentvolumeclaims",
        "kubevirt.io/virtualmachines",
        "cdi.kubevirt.io/datavolumes",
      ].map((r) => `${r}:delete`),
      ...["/services", "/secrets", "/persistentvolumeclaims", "kubevirt.io/virtualmachines"].map(
        (r) => `${r}:watch`,
      ),
    ]);
    const rules = rulesOf(objects);
    for (const g of used) assert.ok(rules.has(g), `${g} was used but is not granted`);
    const unused = [...rules].filter((g) => !used.has(g) && !onFailureOnly.has(g));
    assert.deepEqual(unused, [], "every other rule was used");
    // Discovery only, which every authenticated user may read (system:discovery).
    for (const r of nonResource) assert.match(r, /^GET \/apis?\/[\w.]+(\/\w+)?$/, r);
  });

  test("8. outside the granted rules: 403", async () => {
    const forbidden: [string, string, unknown?][] = [
      [
        "POST",
        "/api/v1/namespaces",
        { apiVersion: "v1", kind: "Namespace", metadata: { name: `${ns.name}-x` } },
      ],
      ["DELETE", `/api/v1/namespaces/${ns.name}`],
      ["GET", `/api/v1/namespaces/${other.name}/secrets`],
      ["GET", `/apis/kubevirt.io/v1/namespaces/${other.name}/virtualmachines`],
      ["GET", `/api/v1/namespaces/${ns.name}/configmaps`],
      ["GET", `/api/v1/namespaces/${ns.name}/pods`],
      ["GET", `/api/v1/namespaces/${ns.name}/secrets/virtwork-ssh`],
      [
        "PATCH",
        `/api/v1/namespaces/${ns.name}/configmaps/virtwork-config`,
        { data: { VIRTWORK_VM_COUNT: "99" } },
      ],
      [
        "POST",
        `/apis/batch/v1/namespaces/${ns.name}/jobs`,
        { apiVersion: "batch/v1", kind: "Job", metadata: { name: "x" } },
      ],
      ["POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns.name}/rolebindings`, {}],
    ];
    for (const [method, path, body] of forbidden) {
      const res = await tokenRequest(cluster.server, cluster.caFile, token, method, path, body);
      assert.equal(res.status, 403, `${method} ${path}: ${res.body}`);
    }
    // …and the CLI reports it as one clear error when pointed at a namespace it has no grant in.
    const pod = asPod("Job", directKubeconfig, ["--no-audit", "--timeout", "30"]);
    pod.env.VIRTWORK_NAMESPACE = other.name;
    const r = await exec(pod.cmd, pod.args, { env: pod.env, timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /forbidden|Forbidden/);
    if (process.env.VIRTWORK_TEST_SHOW) process.stderr.write(r.stderr);
  });

  test("9. the audit trail on the volume holds the run and the cleanup", async () => {
    const pod = asPod("Job", directKubeconfig);
    const args = pod.args.slice(0, -1);
    const r = await exec(pod.cmd, [...args, "history", "-o", "json"], { env: pod.env });
    assert.equal(r.code, 0, r.stderr);
    const runs = JSON.parse(r.stdout) as { runId: string; command: string; status: string }[];
    const run = runs.find((x) => x.runId === runId);
    assert.ok(run, r.stdout);
    assert.ok(
      runs.some((x) => x.command === "cleanup"),
      r.stdout,
    );
  });
});
