/**
 * deploy/ rendered by the project's own step (scripts/render-deploy.ts): the same output as
 * `kubectl kustomize` where kubectl exists, the objects a Job-based deployment needs, and a
 * configuration virtwork really reads. Server-side validity and the RBAC in action are
 * proven in test/integration/incluster-deploy.test.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { DEPLOY_DIR, type KubeObject, renderKustomization } from "../../scripts/render-deploy.ts";
import { EXTRA_ENV, SETTINGS } from "../../src/config/settings.ts";
import { APP, LABEL_MANAGED_BY } from "../../src/manifests/labels.ts";
import { ROOT, virtwork } from "./cli.ts";

const objects = renderKustomization(DEPLOY_DIR);
const find = (kind: string, name?: string): KubeObject => {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.ok(found, `${kind} ${name ?? ""} is rendered`);
  return found;
};

interface Container {
  name: string;
  image: string;
  args: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  envFrom?: {
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
  }[];
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: Record<string, unknown>;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}
interface PodSpec {
  serviceAccountName: string;
  restartPolicy: string;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  containers: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string }; emptyDir?: object }[];
}
const jobPod = (o: KubeObject): PodSpec =>
  (o.kind === "CronJob"
    ? (o.spec as { jobTemplate: { spec: { template: { spec: PodSpec } } } }).jobTemplate.spec.template.spec
    : (o.spec as { template: { spec: PodSpec } }).template.spec) as PodSpec;

const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
const haveKubectl = kubectl.status === 0;

function kustomize(dir: string): KubeObject[] {
  const r = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject);
}

describe("deploy/ renders", () => {
  test("scripts/render-deploy.ts gives exactly what `kubectl kustomize deploy/` gives", {
    skip: haveKubectl ? false : "kubectl is not installed",
  }, () => {
    assert.deepEqual(renderKustomization(DEPLOY_DIR), kustomize(DEPLOY_DIR));
  });

  test("…also after a change of namespace: every object, the Namespace and the RoleBinding subject follow", {
    skip: haveKubectl ? false : "kubectl is not installed",
  }, () => {
    const dir = join(mkdtempSync(join(tmpdir(), "virtwork-deploy-")), "deploy");
    cpSync(DEPLOY_DIR, dir, { recursive: true });
    const file = join(dir, "kustomization.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace(/^namespace: .*$/m, "namespace: perf-lab"));
    const theirs = kustomize(dir);
    assert.deepEqual(renderKustomization(DEPLOY_DIR, { namespace: "perf-lab" }), theirs);
    const binding = theirs.find((o) => o.kind === "RoleBinding") as KubeObject & {
      subjects: { namespace: string }[];
    };
    assert.equal(binding.subjects[0]?.namespace, "perf-lab");
  });

  test("the CLI form prints YAML that parses back to the same objects", () => {
    const r = spawnSync(
      process.execPath,
      ["--experimental-strip-types", join(ROOT, "scripts/render-deploy.ts"), DEPLOY_DIR],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      parseAllDocuments(r.stdout).map((d) => d.toJS()),
      objects,
    );
  });

  test("unsupported kustomization features are errors, not silently ignored", () => {
    const dir = mkdtempSync(join(tmpdir(), "virtwork-deploy-"));
    writeFileSync(join(dir, "kustomization.yaml"), "resources: [a.yaml]\npatches: []\n");
    assert.throws(() => renderKustomization(dir), /"patches" is not supported/);
  });
});

describe("deploy/ objects", () => {
  test("a Job and a CronJob, no Deployment; a namespaced Role, no cluster-wide grant", () => {
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      "ConfigMap/virtwork-config",
      "CronJob/virtwork-cleanup",
      "Job/virtwork-run",
      "Namespace/virtwork",
      "PersistentVolumeClaim/virtwork-audit-data",
      "Role/virtwork",
      "RoleBinding/virtwork",
      "Secret/virtwork-ssh",
      "ServiceAccount/virtwork",
    ]);
  });

  test("every namespaced object is in the kustomization's namespace", () => {
    for (const o of objects) {
      if (o.kind !== "Namespace")
        assert.equal(o.metadata.namespace, "virtwork", `${o.kind}/${o.metadata.name}`);
    }
  });

  test("no object carries virtwork's cleanup label, so `virtwork cleanup` never deletes them", () => {
    for (const o of objects) {
      assert.notEqual(o.metadata.labels?.[LABEL_MANAGED_BY], APP, `${o.kind}/${o.metadata.name}`);
    }
  });

  test("the RoleBinding gives the Role to the pods' ServiceAccount", () => {
    const binding = find("RoleBinding") as KubeObject & {
      roleRef: { kind: string; name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    };
    assert.deepEqual(binding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "virtwork",
    });
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "virtwork", namespace: "virtwork" }]);
    for (const o of [find("Job"), find("CronJob")]) assert.equal(jobPod(o).serviceAccountName, "virtwork");
  });

  test("the Job runs `virtwork run` once: never restarted, never retried", () => {
    const job = find("Job");
    assert.equal((job.spec as { backoffLimit: number }).backoffLimit, 0);
    const pod = jobPod(job);
    assert.equal(pod.restartPolicy, "Never");
    assert.deepEqual(pod.containers[0]?.args, ["run"]);
  });

  test("the cleanup CronJob passes --yes (no terminal in a pod), is suspended and never overlaps", () => {
    const cron = find("CronJob");
    const spec = cron.spec as { suspend: boolean; concurrencyPolicy: string };
    assert.equal(spec.suspend, true);
    assert.equal(spec.concurrencyPolicy, "Forbid");
    const args = jobPod(cron).containers[0]?.args ?? [];
    assert.equal(args[0], "cleanup");
    assert.ok(args.includes("--yes"));
    assert.equal(jobPod(cron).restartPolicy, "Never");
  });

  test("both pods meet the restricted Pod Security Standard, which the Namespace audits and warns on", () => {
    const labels = find("Namespace").metadata.labels ?? {};
    // enforce privileged: KubeVirt's virt-launcher pods for the VMs in this namespace need it
    assert.equal(labels["pod-security.kubernetes.io/enforce"], "privileged");
    assert.equal(labels["pod-security.kubernetes.io/audit"], "restricted");
    assert.equal(labels["pod-security.kubernetes.io/warn"], "restricted");
    for (const o of [find("Job"), find("CronJob")]) {
      const pod = jobPod(o);
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
      for (const c of pod.containers) {
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
        assert.deepEqual((c.securityContext?.capabilities as { drop?: string[] } | undefined)?.drop, ["ALL"]);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
        assert.ok(c.resources?.limits?.memory, "a memory limit");
      }
    }
  });

  test("the image is the one the Containerfile builds, tagged with the package version", () => {
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string })
      .version;
    for (const o of [find("Job"), find("CronJob")]) {
      assert.equal(jobPod(o).containers[0]?.image, `quay.io/opdev/virtwork:${version}`);
    }
  });

  test("every ConfigMap, Secret and volume the pods name is rendered (optional ones excepted)", () => {
    for (const o of [find("Job"), find("CronJob")]) {
      const pod = jobPod(o);
      for (const c of pod.containers) {
        for (const from of c.envFrom ?? []) {
          const ref = from.configMapRef ?? from.secretRef;
          if (!ref || ref.optional) continue;
          find(from.configMapRef ? "ConfigMap" : "Secret", ref.name);
        }
        for (const m of c.volumeMounts ?? []) {
          assert.ok(
            pod.volumes?.some((v) => v.name === m.name),
            `${o.kind}: volume ${m.name}`,
          );
        }
      }
      for (const v of pod.volumes ?? []) {
        if (v.persistentVolumeClaim) find("PersistentVolumeClaim", v.persistentVolumeClaim.claimName);
      }
    }
  });

  test("the SQLite audit file lives on the audit volume", () => {
    const db = (find("ConfigMap").data as Record<string, string>).VIRTWORK_AUDIT_DB ?? "";
    for (const o of [find("Job"), find("CronJob")]) {
      const pod = jobPod(o);
      const audit = pod.volumes?.find((v) => v.persistentVolumeClaim)?.name;
      const mount = pod.containers[0]?.volumeMounts?.find((m) => m.name === audit)?.mountPath ?? "(none)";
      assert.ok(db.startsWith(`${mount}/`), `${db} is under ${mount}`);
    }
  });
});

describe("deploy/ configuration is what virtwork reads", () => {
  const known = new Set<string>([...Object.values(SETTINGS).map((s) => s.env), ...EXTRA_ENV]);
  const configMap = find("ConfigMap").data as Record<string, string>;
  const secret = find("Secret").stringData as Record<string, string>;

  test("every ConfigMap key is a VIRTWORK_* variable of src/config/settings.ts", () => {
    for (const key of Object.keys(configMap)) assert.ok(known.has(key), `${key} is read by virtwork`);
  });

  test("every Secret key too, and the Secret holds exactly the SSH credentials", () => {
    assert.deepEqual(
      Object.keys(secret).sort(),
      [SETTINGS.sshAuthorizedKeys.env, SETTINGS.sshPassword.env].sort(),
    );
  });

  test("every env variable the pods set explicitly too; VIRTWORK_NAMESPACE follows the pod", () => {
    for (const o of [find("Job"), find("CronJob")]) {
      for (const e of jobPod(o).containers[0]?.env ?? []) assert.ok(known.has(e.name), e.name);
      const ns = jobPod(o).containers[0]?.env?.find((e) => e.name === SETTINGS.namespace.env);
      assert.equal(ns?.valueFrom?.fieldRef?.fieldPath, "metadata.namespace");
    }
  });

  test("`virtwork validate` accepts the Job's environment without a warning", () => {
    const r = virtwork(["validate"], {
      env: { ...configMap, ...secret, VIRTWORK_NAMESPACE: "virtwork" },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), "", "no warning (e.g. an unknown VIRTWORK_* variable)");
    assert.match(r.stdout, /configuration is valid: 8 VMs in namespace virtwork/);
  });
});
