/**
 * `virtwork verify`: for each VM of a run, ask Prometheus for the signals its workload
 * declares (src/workloads/signals.ts) and compare them with the thresholds. Steps:
 * settings → cluster session → find Prometheus → (list VMs → query → evaluate), the last
 * three repeated with --wait until every signal is there or the timeout passes.
 */
import { loadConfig } from "../../config/load.ts";
import { settingFlags } from "../../config/settings.ts";
import { discoverThanosQuerier, NoPrometheusError } from "../../kube/monitoring.ts";
import { instantQuery, type PrometheusEndpoint, PrometheusError, rangeQuery } from "../../kube/prometheus.ts";
import { openSession } from "../../kube/session.ts";
import type { Logger } from "../../log/logger.ts";
import { sleepUnlessAborted } from "../../util/sleep.ts";
import { openCatalog } from "../../workloads/catalog/source.ts";
import type { Registry } from "../../workloads/registry.ts";
import { signalExpr } from "../../workloads/signals.ts";
import type { Workload } from "../../workloads/types.ts";
import { forEachLimit } from "../context.ts";
import { resolveRunId } from "../run-id.ts";
import { listStatus, type VmRow } from "../status.ts";
import { type SoakSettings, verifySettings } from "./settings.ts";
import { formatDuration, type SoakResult, type SoakWindow, soakResults } from "./soak.ts";
import { type CheckResult, evaluate, planVerify, type VerifyPlan } from "./targets.ts";

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
  /** --for / --since: each VM × signal over the window. */
  soak?: SoakReport;
}

export interface SoakReport {
  mode: "for" | "since";
  /** ISO times of the window sampled (with --for cut short by Ctrl-C: up to then) */
  start: string;
  end: string;
  stepSeconds: number;
  maxGapSeconds: number;
  /** false: Ctrl-C ended the --for window early */
  complete: boolean;
  results: SoakResult[];
  ok: boolean;
}

/** Verify found nothing to check, or could not ask Prometheus: a runtime failure (exit 1). */
export class VerifyError extends Error {
  override name = "VerifyError";
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
        const instant: VerifyReport = {
          namespace: config.namespace,
          ...(settings.runId ? { runId: settings.runId } : {}),
          prometheus: { url: endpoint.url, source: endpoint.source },
          results,
          unchecked: plan.unchecked.map((v) => ({ vm: v.name, workload: v.workload })),
          ok: ok && !transient,
          rounds,
          elapsedSeconds: Math.round((Date.now() - started) / 1000),
        };
        if (!settings.soak) return instant;
        // --wait (run --verify) that timed out: the signals never all came; no window to watch
        if (settings.wait && !instant.ok) return instant;
        const soak = await soakWindow(endpoint, plan, settings.soak, input);
        return { ...instant, soak, ok: instant.ok && soak.ok };
      }
      await sleepUnlessAborted(settings.intervalSeconds * 1000, input.signal);
    }
  } finally {
    session.close();
  }
}

/**
 * --for: the window starts now; every step (at least every 10 s) the range so far is asked for
 * again, for progress and so that Ctrl-C reports what was sampled. --since: the window that
 * just ended, asked for once. The VMs are the ones the instant check found.
 */
async function soakWindow(
  endpoint: PrometheusEndpoint,
  plan: VerifyPlan,
  soak: SoakSettings,
  input: VerifyInput,
): Promise<SoakReport> {
  const now = () => Math.floor(Date.now() / 1000);
  const start = soak.mode === "for" ? now() : now() - soak.seconds;
  const end = soak.mode === "for" ? start + soak.seconds : now();
  const queries = soakQueries(plan, soak.stepSeconds);
  const sample = async (upTo: number): Promise<SoakResult[]> => {
    const window: SoakWindow = {
      start,
      end: upTo,
      stepSeconds: soak.stepSeconds,
      maxGapSeconds: soak.maxGapSeconds,
    };
    const series = new Map<string, Map<string, [number, number][]>>();
    // not aborted by Ctrl-C: the last sample after it is the report
    await forEachLimit(queries, 4, new AbortController().signal, async (q) => {
      const got = await rangeQuery(endpoint, q.promql, { start, end: upTo, stepSeconds: soak.stepSeconds });
      series.set(q.key, new Map(got.map((g) => [g.labels.name ?? "", g.points])));
    });
    return soakResults(plan, series, window);
  };
  let upTo = soak.mode === "for" ? start : end;
  let results: SoakResult[] = [];
  if (soak.mode === "for") {
    while (upTo < end && !input.signal?.aborted) {
      await sleepUnlessAborted(Math.max(10, soak.stepSeconds) * 1000, input.signal);
      if (input.signal?.aborted) break;
      upTo = Math.min(now(), end);
      results = await sample(upTo);
      const good = results.filter((r) => r.ok).length;
      const worst = [...results].sort((a, b) => b.longestGapSeconds - a.longestGapSeconds)[0];
      input.progress?.(
        `verify --for: ${formatDuration(upTo - start)} of ${formatDuration(soak.seconds)} · ${good}/${results.length} continuous${worst?.longestGapSeconds ? ` · longest gap ${formatDuration(worst.longestGapSeconds)} (${worst.vm} ${worst.signal})` : ""}`,
      );
    }
    upTo = Math.min(now(), end);
    if (upTo - start >= soak.stepSeconds) results = await sample(upTo);
  } else {
    results = await sample(end);
  }
  const complete = upTo >= end;
  return {
    mode: soak.mode,
    start: new Date(start * 1000).toISOString(),
    end: new Date(upTo * 1000).toISOString(),
    stepSeconds: soak.stepSeconds,
    maxGapSeconds: soak.maxGapSeconds,
    complete,
    results,
    ok: results.length > 0 && results.every((r) => r.ok),
  };
}

/**
 * The plan's queries for a window: a rate over the signal's own window would hide any gap
 * shorter than it (2m by default), so a signal without a window of its own is rated over four
 * steps (two scrapes at least) here.
 */
function soakQueries(plan: VerifyPlan, stepSeconds: number): { key: string; promql: string }[] {
  return plan.queries.map((q) => ({
    key: `${q.workload}\0${q.signal.name}`,
    promql: q.signal.window
      ? q.promql
      : signalExpr({ ...q.signal, window: `${4 * stepSeconds}s` }, q.matchers, ["namespace", "name"]),
  }));
}
