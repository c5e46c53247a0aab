/** Helpers for the tests of the shipped catalog entries in `catalog/`. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { GuestConfig } from "../../../src/cloudinit/guest-config.ts";
import { loadConfig } from "../../../src/config/load.ts";
import type { Secret, Service, VirtualMachine } from "../../../src/manifests/objects.ts";
import { plan } from "../../../src/plan/plan.ts";
import { openCatalog } from "../../../src/workloads/catalog/source.ts";
import type { CatalogWorkload } from "../../../src/workloads/catalog/workload.ts";
import { createRegistry } from "../../../src/workloads/registry.ts";
import { type ParsedUserData, workloadPart } from "../../../src/workloads/testing.ts";
import { buildGuestRoot } from "../../guest/artifacts/guest-root.ts";
import { needTools, parseUnit } from "../../guest/artifacts/tools.ts";
import { ROOT } from "../cli.ts";

/** The program of `/bin/bash -c '…'` in a unit line (systemd strips the single quotes). */
function bashDashC(execLine: string): string | undefined {
  return /^[-@:+!]*\/(?:usr\/)?bin\/(?:ba)?sh -c '([^']*)'$/.exec(execLine)?.[1];
}

export const CATALOG_DIR = join(ROOT, "catalog");

export function loadShipped(name: string): CatalogWorkload {
  return openCatalog(CATALOG_DIR, "test").load(name);
}

export function planShipped(name: string, flags: Record<string, unknown> = {}) {
  const { config, registry } = loadConfig({
    flags: { "catalog-dir": CATALOG_DIR, "from-catalog": [name], ...flags },
    env: {},
    registry: createRegistry(),
    openCatalog,
  });
  const p = plan(config, registry, { runId: "00000000-0000-4000-8000-00000000c0de" });
  const vms = p.objects.filter((o): o is VirtualMachine => o.kind === "VirtualMachine");
  const services = p.objects.filter((o): o is Service => o.kind === "Service");
  const userData = (vm: string): ParsedUserData => {
    const s = p.objects.find(
      (o): o is Secret => o.kind === "Secret" && o.metadata?.name === `${vm}-cloudinit`,
    );
    assert.ok(s?.stringData?.userdata, `Secret of ${vm}`);
    return workloadPart(parse(s.stringData.userdata, { version: "1.1" }) as ParsedUserData);
  };
  return { plan: p, vms, services, userData };
}

/** The text of a unit written by the user-data. */
export function unitText(doc: ParsedUserData, name: string): string {
  const f = doc.write_files.find((w) => w.path === `/etc/systemd/system/${name}`);
  assert.ok(f, `user-data writes ${name}`);
  return f.content;
}

export function execStart(text: string): string {
  const entry = parseUnit(text).find((e) => e.section === "Service" && e.key === "ExecStart");
  assert.ok(entry, "unit has ExecStart");
  return entry.value;
}

/** `bash -n` and shellcheck on the `bash -c` program of every Exec line. */
export function assertExecScriptsClean(text: string): void {
  for (const e of parseUnit(text)) {
    if (e.section !== "Service" || !e.key.startsWith("Exec")) continue;
    const script = bashDashC(e.value);
    if (script === undefined) continue;
    const syntax = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    assert.equal(syntax.status, 0, `${e.key}: bash -n: ${syntax.stderr}`);
    if (!needTools("shellcheck")) {
      const sc = spawnSync("shellcheck", ["-s", "bash", "-S", "warning", "-"], {
        input: script,
        encoding: "utf8",
      });
      assert.equal(sc.status, 0, `${e.key}: shellcheck:\n${sc.stdout}`);
    }
  }
}

/** `systemd-analyze verify` of every unit the guest config writes (skipped without the tool). */
export function assertUnitsVerify(guest: GuestConfig): void {
  if (needTools("systemd-analyze")) return;
  const root = mkdtempSync(join(tmpdir(), "virtwork-catalog-root-"));
  try {
    const { units } = buildGuestRoot(root, guest);
    assert.ok(units.length > 0);
    for (const unit of units) {
      const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, unit], { encoding: "utf8" });
      assert.equal(`${r.status} ${r.stdout}${r.stderr}`.trim(), "0", `systemd-analyze verify ${unit}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
