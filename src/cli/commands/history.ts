import { existsSync, readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { parse } from "yaml";
import type { Auditor, RunDetail, RunSummary } from "../../audit/auditor.ts";
import { openAuditor } from "../../audit/open.ts";
import { isPostgresUrl } from "../../audit/postgres.ts";
import { defaultSqlitePath } from "../../audit/sqlite.ts";
import { SETTINGS } from "../../config/settings.ts";
import { ValueProblem } from "../../config/values.ts";
import { UsageError } from "../../errors.ts";
import { toYaml } from "../../util/yaml-emit.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { toTable } from "../output.ts";

type Format = "table" | "json";

/** --audit / --audit-db from flag > env > config file, the same chain as every setting. */
function auditSettings(flags: Record<string, unknown>, env: CliContext["env"]) {
  const configPath = (flags.config as string | undefined) ?? env.VIRTWORK_CONFIG;
  let file: Record<string, unknown> = {};
  if (configPath) {
    try {
      file = (parse(readFileSync(configPath, "utf8")) as Record<string, unknown> | null) ?? {};
    } catch (err) {
      throw new UsageError(`config file ${configPath}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  const pick = (def: { flag?: string; env: string; key: string }): [unknown, string] | undefined => {
    if (def.flag && flags[def.flag] !== undefined) return [flags[def.flag], `--${def.flag}`];
    if (env[def.env]) return [env[def.env], def.env];
    const key = [def.key, def.key.replace(/-/g, "_")].find((k) => file[k] !== undefined && file[k] !== null);
    return key ? [file[key], `config file ${configPath}: ${key}`] : undefined;
  };
  const parseFrom = <T>(def: { parse: (raw: unknown) => T }, given: [unknown, string] | undefined) => {
    if (!given) return undefined;
    try {
      return def.parse(given[0]);
    } catch (err) {
      if (err instanceof ValueProblem) throw new UsageError(`${given[1]}: ${err.message}`);
      throw err;
    }
  };
  return {
    enabled: parseFrom(SETTINGS.audit, pick(SETTINGS.audit)) ?? true,
    target: parseFrom(SETTINGS.auditDb, pick(SETTINGS.auditDb)),
  };
}

/** Opens the configured audit database for reading; `fn` gets undefined when there is none yet. */
async function withAuditor(
  command: Command,
  ctx: CliContext,
  fn: (auditor: Auditor | undefined, location: string) => Promise<void>,
): Promise<void> {
  const { flags } = commandSetup(command, ctx);
  const { enabled, target } = auditSettings(flags, ctx.env);
  if (!enabled)
    throw new UsageError(
      "audit is disabled (--no-audit or VIRTWORK_AUDIT=false): there is no history to read",
    );
  const path = target ?? defaultSqlitePath(ctx.env);
  // Reading history never creates a database.
  if (!isPostgresUrl(path) && !existsSync(path)) return fn(undefined, path);
  const auditor = await openAuditor({ enabled, target: path, env: ctx.env });
  try {
    await fn(auditor, auditor.location);
  } finally {
    await auditor.close();
  }
}

/** 42.5 → "42.5s", 192 → "3m12s", 7320 → "2h2m". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return "-";
  if (seconds < 60) return `${Number(seconds.toFixed(1))}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** "2026-03-01 10:00:05Z": the stored UTC time, to the second. */
function formatTime(iso: string | undefined): string {
  if (!iso) return "-";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** Seconds from `from` to `to` as "+3.2s", for the VM timing columns. */
function after(from: string | undefined, to: string | undefined): string {
  if (!from || !to) return "-";
  return `+${formatDuration((Date.parse(to) - Date.parse(from)) / 1000)}`;
}

export function renderRuns(runs: RunSummary[]): string {
  return toTable(
    ["RUN ID", "COMMAND", "STATUS", "NAMESPACE", "STARTED", "DURATION", "VMS"],
    runs.map((r) => [
      r.runId,
      r.command,
      r.status,
      r.namespace,
      formatTime(r.startedAt),
      formatDuration(r.durationSeconds),
      String(r.vmCount),
    ]),
  );
}

export function renderRun(run: RunDetail): string {
  const facts: [string, string | undefined][] = [
    ["Run", run.runId],
    ["Command", run.command],
    ["Status", run.errorSummary ? `${run.status}: ${run.errorSummary}` : run.status],
    ["Namespace", run.namespace],
    ["Context", run.clusterContext],
    ["Started", formatTime(run.startedAt)],
    [
      "Completed",
      run.completedAt ? `${formatTime(run.completedAt)} (${formatDuration(run.durationSeconds)})` : undefined,
    ],
    ["Workloads", run.workloads.join(", ") || undefined],
    [
      "SSH access",
      run.command.startsWith("cleanup") ? undefined : run.sshAuthConfigured ? "configured" : "none",
    ],
    ["Linked runs", run.linkedRunIds.join(", ") || undefined],
    [
      "Deleted",
      run.deleted
        ? Object.entries(run.deleted)
            .filter(([, n]) => n > 0)
            .map(([kind, n]) => `${n} ${kind}`)
            .join(", ") || "nothing"
        : undefined,
    ],
  ];
  const out = [
    facts
      .filter((f): f is [string, string] => f[1] !== undefined)
      .map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`)
      .join("\n"),
  ];
  if (Object.keys(run.settings).length > 0) {
    out.push(
      `Settings:\n${toYaml(run.settings)
        .trimEnd()
        .split("\n")
        .map((l) => `  ${l}`)
        .join("\n")}`,
    );
  }
  if (run.vms.length > 0) {
    out.push(
      toTable(
        ["VM", "WORKLOAD", "ROLE", "PHASE", "STATUS", "CREATED", "SCHEDULED", "RUNNING", "ERROR"],
        run.vms.map((vm) => [
          vm.name,
          vm.workload,
          vm.role ?? "-",
          vm.phase ?? "-",
          vm.status,
          formatTime(vm.createdAt),
          after(vm.createdAt, vm.scheduledAt),
          after(vm.createdAt, vm.runningAt),
          vm.error ?? "",
        ]),
      ).trimEnd(),
    );
  }
  if (run.events.length > 0) {
    out.push(
      toTable(
        ["TIME", "EVENT", "MESSAGE"],
        run.events.map((e) => [
          formatTime(e.occurredAt),
          e.type,
          [e.message, e.error && e.error !== e.message ? `(${e.error})` : undefined]
            .filter(Boolean)
            .join(" "),
        ]),
      ).trimEnd(),
    );
  }
  return `${out.join("\n\n")}\n`;
}

const outputOption = () =>
  new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table");

export function historyCommand(program: Command, ctx: CliContext): Command {
  const history = program
    .command("history")
    .description("List recorded runs and cleanups (newest first) from the audit database")
    .addOption(outputOption())
    .option("--limit <n>", "how many runs to list", "20")
    .addHelpText(
      "after",
      `
Runs are recorded in $XDG_STATE_HOME/virtwork/audit.db (default ~/.local/state/virtwork/audit.db),
or wherever --audit-db / VIRTWORK_AUDIT_DB points (a SQLite file or a postgres:// URL).

Examples:
  virtwork history
  virtwork history -o json | jq '.[] | select(.status == "failed") | .runId'
  virtwork history show 3f2a9c1e          # a unique prefix of the run id is enough
  virtwork history --audit-db postgres://virtwork@db.example:5432/virtwork`,
    )
    .action(async (opts: { output: Format; limit: string }, command: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit: must be a positive integer, got "${opts.limit}"`);
      await withAuditor(command, ctx, async (auditor, location) => {
        const runs = (await auditor?.listRuns({ limit })) ?? [];
        if (opts.output === "json") return ctx.stdout(`${JSON.stringify(runs, null, 2)}\n`);
        ctx.stdout(runs.length ? renderRuns(runs) : `No runs recorded in ${location}\n`);
      });
    });
  history
    .command("show")
    .description("Show one run: its settings, VMs with phase and timings, and its timeline of events")
    .argument("<run-id>", "the run id, or a unique prefix of it")
    .addOption(outputOption())
    .action(async (runId: string, opts: { output: Format }, command: Command) => {
      await withAuditor(command, ctx, async (auditor, location) => {
        const run = await auditor?.getRun(runId);
        if (!run) throw new Error(`no run ${runId} in ${location} (see virtwork history)`);
        // The parent parses `-o` when it follows the run id (`history show ID -o json`).
        const parent = command.parent;
        const output =
          command.getOptionValueSource("output") !== "cli" && parent?.getOptionValueSource("output") === "cli"
            ? (parent.opts().output as Format)
            : opts.output;
        ctx.stdout(output === "json" ? `${JSON.stringify(run, null, 2)}\n` : renderRun(run));
      });
    });
  // Registered outside the command loop of buildProgram, so it sets up its own error handling.
  for (const cmd of [history, ...history.commands]) {
    cmd.showSuggestionAfterError(true).exitOverride().configureOutput(program.configureOutput());
  }
  return history;
}
