/**
 * `virtwork verify`: for each VM of a run, ask Prometheus for the signals its workload
 * declares (src/workloads/signals.ts) and compare them with the thresholds. Steps:
 * settings → cluster session → find Prometheus → (list VMs → query → evaluate), the last
 * three repeated with --wait until every signal is there or the timeout passes.
 */
import { loadConfig } from "../../config/load.ts";
import { settingFlags } from "../../config/settings.ts";
import { discoverThanosQuerier, NoPrometheusError } from "../../kube/monitoring.ts";
import { instantQuery, type PrometheusEndpoint, PrometheusError } from "../../kube/prometheus.ts";
import { openSession } from "../../kube/session.ts";
import type { Logger } from "../../log/logger.ts";
import { openCatalog } from "../../workloads/catalog/source.ts";
import type { Registry } from "../../workloads/registry.ts";
import type { Workload } from "../../workloads/types.ts";
import { forEachLimit } from "../context.ts";
import { resolveRunId } from "../run-id.ts";
import { listStatus, type VmRow } from "../status.ts";
import { verifySettings } from "./settings.ts";
import { type CheckResult, evaluate, planVerify } from "./targets.ts";

export interface VerifyInput {
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Built-in workloads (the CLI's); catalog entries are looked up in the catalog directory. */
  registry: Registry;
  /** Overrides --run-id (run --verify passes the run it just made). */
  runId?: string;
  /** Overrides --wait (run --verify always waits). */
  wait?: boolean;
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface VerifyReport {
  namespace: string;
  runId?: string;
  prometheus: { url: string; source: string };
  results: CheckResult[];
  /** VMs whose workload declares no signals. */
  unchecked: { vm: string; workload: string }[];
  /** Every check passed (and there was at least one VM). */
  ok: boolean;
  rounds: number;
  elapsedSeconds: number;
}

/** Verify found nothing to check, or could not ask Prometheus: a runtime failure (exit 1). */
export class VerifyError extends Error {
  override name = "VerifyError";
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export async function verifyRun(input: VerifyInput): Promise<VerifyReport> {
  const { logger } = input;
  // only the layered settings verify offers (-o table|json is its own, not the plan's output)
  const flags = settingFlags(input.flags, ["global", "verify"]);
  const { config } = loadConfig({ flags, env: input.env, registry: input.registry });
  const settings = verifySettings({
    flags: input.flags,
    env: input.env,
    timeoutSeconds: config.timeoutSeconds,
    ...(input.runId ? { runId: input.runId } : {}),
    ...(input.wait !== undefined ? { wait: input.wait } : {}),
  });
  const { registry } = input;
  const catalog = openCatalog(config.catalogDir, config.sources.catalogDir ?? "default");
  const workloadOf = (name: string): Workload | undefined => {
    const builtin = registry.get(name);
    if (builtin) return builtin;
    try {
      return catalog.exists() && catalog.names().includes(name) ? catalog.load(name) : undefined;
    } catch (err) {
      logger.warn("catalog entry not loadable; its VMs are not checked", { entry: name, error: String(err) });
      return undefined;
    }
  };

  const session = await openSession(config, input.env, logger);
  try {
    let endpoint: PrometheusEndpoint;
    if (settings.prometheusUrl) {
      endpoint = {
        url: settings.prometheusUrl,
        source: "--prometheus-url",
        ...(settings.prometheusToken ? { token: settings.prometheusToken } : {}),
        ...(settings.prometheusCa ? { ca: settings.prometheusCa } : {}),
      };
    } else {
      try {
        endpoint = await discoverThanosQuerier(session.api, session.client.connection);
      } catch (err) {
        if (err instanceof NoPrometheusError)
          throw new VerifyError(
            `no Prometheus to ask: ${err.message}; pass --prometheus-url (with --prometheus-token / --prometheus-ca if it needs them)`,
          );
        throw err;
      }
    }
    logger.debug("prometheus", { url: endpoint.url, source: endpoint.source });

    if (settings.runId)
      settings.runId = await resolveRunId(session.api, config.namespace, settings.runId, logger);
    const started = Date.now();
    const deadline = started + settings.timeoutSeconds * 1000;
    let rounds = 0;
    for (;;) {
      rounds++;
      const vms: VmRow[] = await listStatus(session.api, config.namespace, settings.runId);
      if (!vms.length)
        throw new VerifyError(
          `no virtwork VMs in namespace ${config.namespace}${settings.runId ? ` for run ${settings.runId}` : ""}; check -n and --run-id (virtwork status lists them)`,
        );
      const plan = planVerify(config.namespace, vms, workloadOf);
      const measured = new Map<string, Map<string, number>>();
      let transient: PrometheusError | undefined;
      await forEachLimit(plan.queries, 4, input.signal ?? new AbortController().signal, async (q) => {
        try {
          const samples = await instantQuery(
            endpoint,
            q.promql,
            input.signal ? { signal: input.signal } : {},
          );
          measured.set(
            `${q.workload}\0${q.signal.name}`,
            new Map(samples.map((s) => [s.labels.name ?? "", s.value])),
          );
        } catch (err) {
          // a busy or restarting Prometheus is worth another round with --wait; the rest is not
          if (settings.wait && err instanceof PrometheusError && err.transient) transient = err;
          else throw err;
        }
      });
      const results = evaluate(plan, measured);
      const ok = results.every((r) => r.ok);
      const passed = results.filter((r) => r.ok).length;
      input.progress?.(`verify: ${passed}/${results.length} signals present (round ${rounds})`);
      if (transient) logger.warn("prometheus query failed; trying again", { error: transient.message });
      const timedOut = Date.now() + settings.intervalSeconds * 1000 > deadline;
      if ((ok && !transient) || !settings.wait || timedOut || input.signal?.aborted) {
        // still failing at the deadline: the unreachable Prometheus is the news, not the table
        if (transient) throw transient;
        return {
          namespace: config.namespace,
          ...(settings.runId ? { runId: settings.runId } : {}),
          prometheus: { url: endpoint.url, source: endpoint.source },
          results,
          unchecked: plan.unchecked.map((v) => ({ vm: v.name, workload: v.workload })),
          ok: ok && !transient,
          rounds,
          elapsedSeconds: Math.round((Date.now() - started) / 1000),
        };
      }
      await sleep(settings.intervalSeconds * 1000, input.signal);
    }
  } finally {
    session.close();
  }
}
