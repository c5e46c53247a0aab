import type { Command } from "commander";
import { vmStatus } from "../../ops/status.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addOptions } from "../options.ts";
import { toTable } from "../output.ts";

function age(created: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - new Date(created).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function statusCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("status")
    .description("Show virtwork's VMs in the namespace: run, workload, role, phase, node, IP, age")
    .addHelpText("after", "\nExamples:\n  virtwork status\n  virtwork status -n perf --run-id 3f2a… -o json");
  return addOptions(cmd, "status").action(
    async (opts: { runId?: string; output: string }, command: Command) => {
      const { flags, logger } = commandSetup(command, ctx);
      const { namespace, rows } = await vmStatus({
        flags,
        env: ctx.env,
        logger,
        registry: ctx.registry,
        ...(opts.runId ? { runId: opts.runId } : {}),
      });
      if (opts.output === "json") {
        ctx.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (!rows.length) {
        ctx.stdout(
          `No virtwork VMs in namespace ${namespace}${opts.runId ? ` for run ${opts.runId}` : ""}.\n`,
        );
        return;
      }
      const now = new Date();
      ctx.stdout(
        toTable(
          ["RUN-ID", "NAME", "WORKLOAD", "ROLE", "PHASE", "NODE", "IP", "AGE"],
          rows.map((r) => [
            r.runId,
            r.name,
            r.workload,
            r.role || "-",
            r.phase,
            r.node || "-",
            r.ip || "-",
            age(r.createdAt, now),
          ]),
        ),
      );
    },
  );
}
