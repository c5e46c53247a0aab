/**
 * Fault injection for the local test cluster: a ValidatingWebhookConfiguration that sends
 * admission reviews to an HTTPS server inside the test process, which denies a chosen fraction
 * of requests with a chosen HTTP status. kube-apiserver passes the status code through
 * unchanged (any code >= 400) and turns `details.retryAfterSeconds` into a `Retry-After`
 * header, so clients see a real 429 TooManyRequests or 500 InternalError response.
 *
 * Scope: one namespace (by `kubernetes.io/metadata.name`), write operations only (CREATE by
 * default; UPDATE/DELETE on request). Requests from `system:*` users and from the simulator's
 * identity are never denied, so garbage collection, namespace finalization and the simulator
 * keep working while the client under test is being throttled. The webhook uses
 * `failurePolicy: Ignore`: if the test process dies, the cluster behaves normally again.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";

export type Operation = "CREATE" | "UPDATE" | "DELETE";

export interface FaultSettings {
  /** fraction of matching requests to deny, 0..1 */
  rate: number;
  /** HTTP status returned to the client: 429 (TooManyRequests, with Retry-After) or 500 (InternalError) */
  code: 429 | 500;
  /** Retry-After value for 429; default 1 */
  retryAfterSeconds?: number;
  /** default ["CREATE"] */
  operations?: Operation[];
  /** deny at most this many requests, then allow everything (e.g. "429 twice, then succeed") */
  count?: number;
  /** seed for the deterministic random sequence; default 1 */
  seed?: number;
  /** only requests for these resources (plural, e.g. "virtualmachines"); all when omitted */
  resources?: string[];
}

export interface FaultStats {
  /** admission reviews seen for matching operations */
  seen: number;
  /** of which denied */
  denied: number;
}

export interface FaultInjector {
  readonly name: string;
  readonly namespace: string;
  /** switch faults on (settings) or off (null); resets the counters */
  set(settings: FaultSettings | null): void;
  stats(): FaultStats;
  stop(): Promise<void>;
}

export interface FaultInjectorOptions {
  adminKubeconfig: string | k8s.KubeConfig;
  namespace: string;
  /** PEM files of a serving certificate for 127.0.0.1 and the CA that signed it */
  certFile: string;
  keyFile: string;
  caFile: string;
  /** users whose requests are never denied, besides every `system:*` user */
  exemptUsers?: string[];
}

interface AdmissionReview {
  request?: {
    uid: string;
    operation: string;
    resource?: { resource?: string };
    userInfo?: { username?: string };
    dryRun?: boolean;
    name?: string;
  };
}

/** mulberry32: a small deterministic PRNG, so a given seed gives the same fault sequence */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PROBE_PREFIX = "virtwork-fault-probe-";

export async function startFaultInjector(opts: FaultInjectorOptions): Promise<FaultInjector> {
  const kc =
    typeof opts.adminKubeconfig === "string"
      ? (() => {
          const c = new k8s.KubeConfig();
          c.loadFromFile(opts.adminKubeconfig);
          return c;
        })()
      : opts.adminKubeconfig;
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const exempt = new Set([...(opts.exemptUsers ?? [])]);
  const name = `virtwork-faults-${opts.namespace}-${randomUUID().slice(0, 8)}`;

  let settings: FaultSettings | null = null;
  let random = prng(1);
  let stats: FaultStats = { seen: 0, denied: 0 };
  let probesSeen = 0;

  function decide(review: AdmissionReview): Record<string, unknown> {
    const req = review.request;
    const uid = req?.uid ?? "";
    const allow = { uid, allowed: true };
    if (!req) return allow;
    if (req.dryRun && req.name?.startsWith(PROBE_PREFIX)) {
      probesSeen++;
      return allow;
    }
    const user = req.userInfo?.username ?? "";
    if (!settings || user.startsWith("system:") || exempt.has(user)) return allow;
    const ops = settings.operations ?? ["CREATE"];
    if (!ops.includes(req.operation as Operation)) return allow;
    if (settings.resources && !settings.resources.includes(req.resource?.resource ?? "")) return allow;
    stats.seen++;
    if (settings.count !== undefined && stats.denied >= settings.count) return allow;
    if (random() >= settings.rate) return allow;
    stats.denied++;
    if (settings.code === 429) {
      const retry = settings.retryAfterSeconds ?? 1;
      return {
        uid,
        allowed: false,
        status: {
          code: 429,
          reason: "TooManyRequests",
          message: `the server has received too many requests and has asked us to try again later (injected by ${name})`,
          details: { retryAfterSeconds: retry },
        },
      };
    }
    return {
      uid,
      allowed: false,
      status: {
        code: 500,
        reason: "InternalError",
        message: `Internal error occurred: injected by ${name}`,
      },
    };
  }

  const server: Server = createServer(
    { cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        let review: AdmissionReview = {};
        try {
          review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as AdmissionReview;
        } catch {
          res.writeHead(400).end();
          return;
        }
        const response = decide(review);
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response }));
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  await admission.createValidatingWebhookConfiguration({
    body: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name, labels: { "virtwork.io/test-fault-injector": "true" } },
      webhooks: [
        {
          name: "faults.virtwork.io",
          admissionReviewVersions: ["v1"],
          sideEffects: "None",
          failurePolicy: "Ignore",
          timeoutSeconds: 5,
          clientConfig: {
            url: `https://127.0.0.1:${port}/validate`,
            caBundle: readFileSync(opts.caFile).toString("base64"),
          },
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": opts.namespace } },
          rules: [
            {
              operations: ["CREATE", "UPDATE", "DELETE"],
              apiGroups: ["*"],
              apiVersions: ["*"],
              resources: ["*"],
              scope: "Namespaced",
            },
          ],
        },
      ],
    },
  });

  // The apiserver picks new webhook configurations up asynchronously: probe with dry-run
  // creates until one reaches us.
  const deadline = Date.now() + 30_000;
  for (let i = 0; probesSeen === 0; i++) {
    if (Date.now() > deadline) {
      server.close();
      throw new Error(`fault webhook ${name} was not called within 30s`);
    }
    await core
      .createNamespacedConfigMap({
        namespace: opts.namespace,
        body: { metadata: { name: `${PROBE_PREFIX}${i}` } },
        dryRun: "All",
      })
      .catch(() => undefined);
    if (probesSeen === 0) await new Promise((r) => setTimeout(r, 200));
  }

  return {
    name,
    namespace: opts.namespace,
    set(s) {
      if (s && (s.rate < 0 || s.rate > 1))
        throw new RangeError(`fault rate must be within 0..1, got ${s.rate}`);
      settings = s;
      random = prng(s?.seed ?? 1);
      stats = { seen: 0, denied: 0 };
    },
    stats() {
      return { ...stats };
    },
    async stop() {
      settings = null;
      await admission.deleteValidatingWebhookConfiguration({ name }).catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
