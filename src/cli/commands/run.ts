import type { Command } from "commander";
import type { FinalStatus } from "../../audit/auditor.ts";
import { describeRun } from "../../audit/describe.ts";
import { ExitCode } from "../../errors.ts";
import { type DeploySummary, deploy } from "../../ops/run.ts";
import { prepareRun } from "../../plan/prepare.ts";
import { toYaml } from "../../util/yaml-emit.ts";
import { auditObserver, openAudit } from "../audit.ts";
import { interruptible, openCluster, opsContext, progressWriter } from "../cluster.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addPlanOptions, addRunOptions } from "../options.ts";
import { toJsonList, toTable, toYamlDocuments } from "../output.ts";

function plural(kind: string, n: number): string {
  return n === 1 ? kind : `${kind}s`;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(1)}s`;
}

export function renderSummary(s: DeploySummary): string {
  const created =
    Object.entries(s.created)
      .map(([k, n]) => `${n} ${plural(k, n)}`)
      .join(", ") || "nothing";
  const existing = Object.entries(s.existing)
    .map(([k, n]) => `${n} ${plural(k, n)}`)
    .join(", ");
  const lines = [
    `Run ${s.runId} in namespace ${s.namespace}: ${s.outcome}${s.message ? ` (${s.message})` : ""}`,
    `Created ${created}${existing ? `; already present: ${existing}` : ""}`,
    "",
    toTable(
      ["WORKLOAD", "VMS", "RUNNING", "FAILED"],
      s.workloads.map((w) => [w.name, String(w.vms), String(w.ready), String(w.failed)]),
    ).trimEnd(),
  ];
  if (s.timings.createdToRunningP50Ms !== undefined) {
    lines.push(
      "",
      `Created → running: p50 ${seconds(s.timings.createdToRunningP50Ms)}, p95 ${seconds(s.timings.createdToRunningP95Ms)}`,
    );
  }
  lines.push("", `Remove it with: virtwork cleanup -n ${s.namespace} --run-id ${s.runId}`);
  return `${lines.join("\n")}\n`;
}

function summaryJson(s: DeploySummary) {
  return {
    ...s,
    vms: s.vms.map((v) => ({
      ...v,
      createdAt: v.createdAt?.toISOString(),
      scheduledAt: v.scheduledAt?.toISOString(),
      runningAt: v.runningAt?.toISOString(),
    })),
  };
}

export function runCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("run")
    .description(
      "Create the VMs of the selected workloads and wait until they run (or print them with --dry-run)",
    )
    .addHelpText(
      "after",
      `
Examples:
  # Print every object of the default run (6 workloads, 8 VMs); contacts no cluster
  virtwork run --dry-run

  # Deploy the default run and wait until every VM is running
  virtwork run

  # Three iperf3 server/client pairs in namespace perf, summary as JSON
  virtwork run -n perf --workloads network --vm-count 3 -o json

  # Let the cluster's admission check everything without creating anything
  virtwork run --dry-run=server --workloads all`,
    );
  addRunOptions(addPlanOptions(cmd));
  cmd.action(async (_opts, command: Command) => {
    const { flags, logger } = commandSetup(command, ctx);
    const dryRunClient = (flags["dry-run"] ?? "") === true || flags["dry-run"] === "client";
    const { config, plan } = prepareRun({
      flags,
      env: ctx.env,
      logger,
      purpose: dryRunClient ? "print" : "apply",
    });

    if (config.dryRun === "client") {
      if (config.ssh?.password && !config.showSecrets) {
        logger.warn("SSH password redacted in the printed Secrets; add --show-secrets to print it");
      }
      logger.info("dry run: printing the plan, nothing is sent to a cluster", {
        run_id: plan.runId,
        namespace: plan.namespace,
        vms: plan.vms.length,
        workloads: plan.workloads.map((w) => w.name),
      });
      ctx.stdout(config.output === "json" ? toJsonList(plan.objects) : toYamlDocuments(plan.objects));
      return;
    }

    const auditor = await openAudit(config, ctx.env, logger);
    const observe = auditObserver(auditor, plan.runId, plan.namespace);
    let session: Awaited<ReturnType<typeof openCluster>>;
    try {
      session = await openCluster(config, ctx, logger, observe);
    } catch (err) {
      await auditor.close();
      throw err;
    }
    const signals = interruptible(logger);
    const progress = progressWriter(ctx, Boolean(process.stderr.isTTY), logger);
    await auditor.startRun(
      describeRun(config, {
        runId: plan.runId,
        command: config.dryRun === "server" ? "dry-run" : "run",
        plan,
        clusterContext: session.contextName,
      }),
    );
    let finalStatus: FinalStatus = "failed";
    let errorSummary: string | undefined;
    try {
      logger.info(
        config.dryRun === "server" ? "server dry run: the cluster checks every object" : "deploying",
        {
          run_id: plan.runId,
          namespace: plan.namespace,
          context: session.contextName,
          vms: plan.vms.length,
        },
      );
      const summary = await deploy(
        opsContext(session, logger, signals.signal, progress.update, observe),
        plan,
        {
          dryRun: config.dryRun === "server" ? "server" : "none",
          wait: config.wait,
          timeoutSeconds: config.timeoutSeconds,
          vmConcurrency: config.vmConcurrency,
        },
      );
      progress.done();
      for (const w of summary.workloads) {
        void auditor.updateWorkload(
          plan.runId,
          w.name,
          w.failed > 0 ? "failed" : w.ready === w.vms ? "ready" : "created",
        );
      }
      finalStatus =
        summary.outcome === "interrupted"
          ? "cancelled"
          : summary.outcome === "failed" || summary.outcome === "timeout"
            ? "failed"
            : "success";
      errorSummary = summary.message;
      const explicitOutput = config.sources.output !== "default";
      ctx.stdout(
        explicitOutput && config.output === "json"
          ? `${JSON.stringify(summaryJson(summary), null, 2)}\n`
          : explicitOutput
            ? toYaml(summaryJson(summary))
            : renderSummary(summary),
      );
      if (summary.outcome === "interrupted") {
        const existing = summary.objects.filter((o) => o.kind !== "Namespace").length;
        ctx.stderr(
          `Interrupted: ${existing} objects of run ${summary.runId} exist in namespace ${summary.namespace}. Remove them with:\n  virtwork cleanup -n ${summary.namespace} --run-id ${summary.runId} --yes\n`,
        );
        process.exitCode = ExitCode.interrupted;
      } else if (summary.outcome === "failed" || summary.outcome === "timeout") {
        ctx.stderr(`Error: ${summary.message}\n`);
        process.exitCode = ExitCode.failure;
      }
    } catch (err) {
      errorSummary = (err as Error).message;
      if (signals.interrupted()) finalStatus = "cancelled";
      throw err;
    } finally {
      progress.done();
      signals.dispose();
      session.close();
      await auditor.completeRun(plan.runId, finalStatus, errorSummary);
      await auditor
        .close()
        .catch((err: unknown) => logger.warn("audit: could not close", { error: String(err) }));
    }
  });
  return cmd;
}
