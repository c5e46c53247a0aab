import type { KubeApi, KubeResource } from "./api.ts";
import type { Connection } from "./connect.ts";
import { KubeError } from "./errors.ts";
import type { PrometheusEndpoint } from "./prometheus.ts";
import { RESOURCES } from "./resources.ts";

export const MONITORING_NAMESPACE = "openshift-monitoring";
export const THANOS_ROUTE = "thanos-querier";
/** The router's CA bundle, readable by every authenticated user on OpenShift. */
const INGRESS_CA = {
  namespace: "openshift-config-managed",
  name: "default-ingress-cert",
  key: "ca-bundle.crt",
};

interface Route extends KubeResource {
  spec?: { host?: string; path?: string; tls?: unknown };
}
interface ConfigMap extends KubeResource {
  data?: Record<string, string>;
}

/** Why discovery found nothing; the command turns it into "pass --prometheus-url". */
export class NoPrometheusError extends Error {
  override name = "NoPrometheusError";
}

/** The kubeconfig's bearer token (static, a token file, or from an exec plugin), if it has one. */
async function bearerToken(connection: Connection): Promise<string | undefined> {
  const auth = (await connection.credentials.get()).authorization;
  return auth?.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined;
}

/** The cluster CA of the kubeconfig (PEM), if it names one. */
function clusterCa(connection: Connection): string | undefined {
  return connection.tls.ca;
}

/**
 * OpenShift's Thanos querier: the `thanos-querier` route in openshift-monitoring (https, all
 * namespaces' metrics), authenticated with the kubeconfig's bearer token and trusting the
 * cluster CA plus the router's CA. Throws NoPrometheusError when the cluster has no such
 * route (not OpenShift, or monitoring is off) or the identity may not read it.
 */
export async function discoverThanosQuerier(
  api: KubeApi,
  connection: Connection,
): Promise<PrometheusEndpoint> {
  let route: Route | undefined;
  try {
    route = (await api.serves(RESOURCES.routes))
      ? await api.get<Route>(RESOURCES.routes, THANOS_ROUTE, MONITORING_NAMESPACE)
      : undefined;
  } catch (err) {
    if (err instanceof KubeError && err.status === 403)
      throw new NoPrometheusError(
        `may not read route ${MONITORING_NAMESPACE}/${THANOS_ROUTE} (403) to find the Thanos querier`,
      );
    throw err;
  }
  if (!route?.spec?.host)
    throw new NoPrometheusError(
      `no route ${MONITORING_NAMESPACE}/${THANOS_ROUTE} (the Thanos querier of OpenShift monitoring) on this cluster`,
    );
  const token = await bearerToken(connection);
  let ingressCa: string | undefined;
  try {
    const cm = await api.get<ConfigMap>(RESOURCES.configmaps, INGRESS_CA.name, INGRESS_CA.namespace);
    ingressCa = cm?.data?.[INGRESS_CA.key];
  } catch {
    // not readable: the router may use a publicly trusted certificate
  }
  const ca = [clusterCa(connection), ingressCa].filter(Boolean).join("\n");
  return {
    url: `https://${route.spec.host}${(route.spec.path ?? "").replace(/\/+$/, "")}`,
    ...(token ? { token } : {}),
    ...(ca ? { ca } : {}),
    source: `the Thanos querier route ${MONITORING_NAMESPACE}/${THANOS_ROUTE}, with the kubeconfig's token`,
    forbiddenHint:
      "reading metrics through the Thanos querier needs the cluster-monitoring-view ClusterRole (oc adm policy add-cluster-role-to-user cluster-monitoring-view <user>)",
  };
}
