/**
 * Renders deploy/ (a Kustomize directory) without kubectl: the subset of Kustomize the
 * project uses, with Kustomize's results (test/unit/deploy-render.test.ts compares the two
 * when kubectl is installed). Anything outside that subset is an error, never ignored.
 *
 *   node --experimental-strip-types scripts/render-deploy.ts [dir] [--namespace ns] [-o yaml|json]
 *
 * Supported kustomization fields: resources (YAML files), namespace, labels (pairs, no
 * selectors or templates), images (name → newName/newTag/digest).
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  labels?: { pairs?: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
}

const SUPPORTED = new Set(["apiVersion", "kind", "namespace", "resources", "labels", "images"]);

/** Kinds whose objects have no namespace; every kind must be in one of the two lists. */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "PersistentVolume",
  "StorageClass",
  "PriorityClass",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
]);
const NAMESPACED = new Set([
  "ServiceAccount",
  "Role",
  "RoleBinding",
  "ConfigMap",
  "Secret",
  "Service",
  "PersistentVolumeClaim",
  "Pod",
  "Job",
  "CronJob",
  "Deployment",
  "StatefulSet",
  "NetworkPolicy",
  "ResourceQuota",
  "LimitRange",
  "PodDisruptionBudget",
]);

/** Kustomize's default ("legacy") output order: these kinds first, webhooks last. */
const ORDER_FIRST = [
  "Namespace",
  "ResourceQuota",
  "StorageClass",
  "CustomResourceDefinition",
  "ServiceAccount",
  "PodSecurityPolicy",
  "Role",
  "ClusterRole",
  "RoleBinding",
  "ClusterRoleBinding",
  "ConfigMap",
  "Secret",
  "Endpoints",
  "Service",
  "LimitRange",
  "PriorityClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "Deployment",
  "StatefulSet",
  "CronJob",
  "PodDisruptionBudget",
];
const ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

function rank(kind: string): number {
  const first = ORDER_FIRST.indexOf(kind);
  if (first >= 0) return first;
  const last = ORDER_LAST.indexOf(kind);
  return last >= 0 ? ORDER_FIRST.length + 1 + last : ORDER_FIRST.length;
}

export function isNamespaced(kind: string): boolean {
  if (CLUSTER_SCOPED.has(kind)) return false;
  if (NAMESPACED.has(kind)) return true;
  throw new Error(`render-deploy: unknown kind ${kind}: add it to CLUSTER_SCOPED or NAMESPACED`);
}

function parseYamlFile(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, "utf8"));
  const out: unknown[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0]?.message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** The pod specs inside a workload object (Pod, Job, CronJob, Deployment, StatefulSet). */
function podSpecs(obj: KubeObject): Record<string, unknown>[] {
  type Template = { template?: { spec?: Record<string, unknown> } };
  const spec = obj.spec as
    | (Record<string, unknown> & Template & { jobTemplate?: { spec?: Template } })
    | undefined;
  if (!spec) return [];
  if (obj.kind === "Pod") return [spec];
  const pod = obj.kind === "CronJob" ? spec.jobTemplate?.spec?.template?.spec : spec.template?.spec;
  return pod ? [pod] : [];
}

function imageName(image: string): string {
  const at = image.indexOf("@");
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}

/** Renders the kustomization in `dir`; `namespace` overrides the one it names. */
export function renderKustomization(dir: string, options: { namespace?: string } = {}): KubeObject[] {
  const file = join(dir, "kustomization.yaml");
  const [k] = parseYamlFile(file) as Kustomization[];
  if (!k || typeof k !== "object") throw new Error(`${file}: empty`);
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key))
      throw new Error(`${file}: "${key}" is not supported by scripts/render-deploy.ts`);
  }
  const namespace = options.namespace ?? k.namespace;
  const objects: KubeObject[] = [];
  for (const resource of k.resources ?? []) {
    if (!/\.ya?ml$/.test(resource) || resource.includes("://"))
      throw new Error(`${file}: resource ${resource}: only local YAML files are supported`);
    for (const doc of parseYamlFile(join(dir, resource))) {
      const obj = doc as KubeObject;
      if (!obj.apiVersion || !obj.kind || !obj.metadata?.name)
        throw new Error(`${resource}: every object needs apiVersion, kind and metadata.name`);
      objects.push(obj);
    }
  }

  for (const obj of objects) {
    if (namespace) {
      if (obj.kind === "Namespace") obj.metadata.name = namespace;
      else if (isNamespaced(obj.kind)) obj.metadata.namespace = namespace;
      // Kustomize fills in ServiceAccount subjects that name no namespace (or "default").
      if (obj.kind === "RoleBinding" || obj.kind === "ClusterRoleBinding") {
        for (const s of (obj.subjects as { kind: string; namespace?: string }[] | undefined) ?? []) {
          if (s.kind === "ServiceAccount" && (!s.namespace || s.namespace === "default"))
            s.namespace = namespace;
        }
      }
    } else {
      isNamespaced(obj.kind);
    }
    for (const label of k.labels ?? []) {
      if (label.includeSelectors || label.includeTemplates)
        throw new Error(`${file}: labels with includeSelectors/includeTemplates are not supported`);
      obj.metadata.labels = { ...obj.metadata.labels, ...label.pairs };
    }
    for (const pod of podSpecs(obj)) {
      for (const list of ["initContainers", "containers"]) {
        for (const c of (pod[list] as { image?: string }[] | undefined) ?? []) {
          const rule = c.image && (k.images ?? []).find((i) => i.name === imageName(c.image as string));
          if (!rule || !c.image) continue;
          const name = rule.newName ?? rule.name;
          if (rule.digest) c.image = `${name}@${rule.digest}`;
          else if (rule.newTag) c.image = `${name}:${rule.newTag}`;
          else c.image = name + c.image.slice(imageName(c.image).length);
        }
      }
    }
  }
  return objects
    .map((obj, index) => ({ obj, index }))
    .sort(
      (a, b) =>
        rank(a.obj.kind) - rank(b.obj.kind) ||
        (rank(a.obj.kind) === ORDER_FIRST.length ? a.obj.kind.localeCompare(b.obj.kind) : 0) ||
        (a.obj.metadata.namespace ?? "").localeCompare(b.obj.metadata.namespace ?? "") ||
        a.obj.metadata.name.localeCompare(b.obj.metadata.name) ||
        a.index - b.index,
    )
    .map((e) => e.obj);
}

export function toYaml(objects: KubeObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

function main(argv: string[]): void {
  let dir = "deploy";
  let namespace: string | undefined;
  let output = "yaml";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--namespace" || arg === "-n") namespace = argv[++i];
    else if (arg === "-o" || arg === "--output") output = argv[++i] ?? "yaml";
    else if (arg === "-h" || arg === "--help") {
      process.stdout.write(
        "usage: render-deploy.ts [dir] [--namespace ns] [-o yaml|json]  (a kustomization without kubectl)\n",
      );
      return;
    } else dir = arg;
  }
  const objects = renderKustomization(resolve(dir), namespace ? { namespace } : {});
  process.stdout.write(output === "json" ? `${JSON.stringify(objects, null, 2)}\n` : toYaml(objects));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    process.exit(2);
  }
}

export const DEPLOY_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "deploy");
