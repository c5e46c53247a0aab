import type { KubeApi, KubeResource } from "./api.ts";
import type { KubeError } from "./errors.ts";
import type { Resource } from "./resources.ts";

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

interface ApiGroupList {
  groups?: { name: string; preferredVersion?: { version: string } }[];
}

/**
 * Every namespaced resource type the API server serves with the `list` verb, in each group's
 * preferred version (the same objects served under several versions are listed once).
 * Subresources (`pods/log`) are left out. A group whose discovery fails is returned in
 * `failed` with the reason, so a caller that must see everything knows it did not.
 */
export async function listableNamespacedResources(
  api: KubeApi,
): Promise<{ resources: Resource[]; failed: { group: string; error: string }[] }> {
  const resources: Resource[] = [];
  const failed: { group: string; error: string }[] = [];
  const read = async (group: string, version: string, path: string) => {
    try {
      const list = await api.client.request<ApiResourceList>("GET", path, { call: { verb: "discover" } });
      for (const r of list.resources ?? []) {
        if (r.name.includes("/") || !r.namespaced || !(r.verbs ?? []).includes("list")) continue;
        resources.push({ group, version, plural: r.name, kind: r.kind, namespaced: true });
      }
    } catch (err) {
      failed.push({ group: group || "core", error: (err as Error).message });
    }
  };
  await read("", "v1", "/api/v1");
  const groups = await api.client.request<ApiGroupList>("GET", "/apis", { call: { verb: "discover" } });
  await Promise.all(
    (groups.groups ?? []).map((g) => {
      const version = g.preferredVersion?.version;
      return version ? read(g.name, version, `/apis/${g.name}/${version}`) : Promise.resolve();
    }),
  );
  return { resources, failed };
}

/** Lists `resource` in `namespace`; a 403/404/… becomes `error` instead of a throw. */
export async function tryList<T extends KubeResource>(
  api: KubeApi,
  resource: Resource,
  namespace: string,
  labelSelector?: string,
): Promise<{ items: T[]; error?: KubeError | Error }> {
  try {
    return { items: (await api.list<T>(resource, namespace, labelSelector)).items };
  } catch (err) {
    return { items: [], error: err as Error };
  }
}
