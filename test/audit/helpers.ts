/**
 * Backends for the audit tests: a SQLite file in a fresh temp dir, and a fresh database on
 * the real PostgreSQL server that scripts/postgres-test-server.sh installs and starts.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Auditor, RunStart } from "../../src/audit/auditor.ts";
import { openAuditor } from "../../src/audit/open.ts";
import { openPostgres } from "../../src/audit/postgres.ts";
import type { SqlDriver } from "../../src/audit/sql.ts";
import { openSqlite } from "../../src/audit/sqlite.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;

let serverUrl: string | undefined;

/** The URL of the test server's admin database; installs and starts it on first use. */
export function postgresServerUrl(): string {
  serverUrl ??=
    process.env.VIRTWORK_TEST_PG_URL ||
    execFileSync(join(ROOT, "scripts/postgres-test-server.sh"), {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      timeout: 15 * 60_000,
    }).trim();
  return serverUrl;
}

export interface Backend {
  name: "sqlite" | "postgres";
  /** Where the auditor writes: a file path or a postgres:// URL of a fresh database. */
  target: string;
  open(): Promise<Auditor>;
  /** A second connection for checking raw rows. */
  raw(): Promise<SqlDriver>;
  dispose(): Promise<void>;
}

export async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), "virtwork-audit-"));
  const target = join(dir, "nested", "audit.db");
  return {
    name: "sqlite",
    target,
    open: () => openAuditor({ enabled: true, target, env: {} }),
    raw: async () => openSqlite(target),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function postgresBackend(): Promise<Backend> {
  const admin = postgresServerUrl();
  const database = `virtwork_test_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const driver = await openPostgres(admin);
  await driver.query(`CREATE DATABASE ${database}`);
  await driver.close();
  const url = new URL(admin);
  url.pathname = `/${database}`;
  const target = url.toString();
  return {
    name: "postgres",
    target,
    open: () => openAuditor({ enabled: true, target, env: {} }),
    raw: () => openPostgres(target),
    dispose: async () => {
      const d = await openPostgres(admin);
      await d.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await d.close();
    },
  };
}

export const BACKENDS = [sqliteBackend, postgresBackend];

/** A run of two workloads (one with a disk and a Service), three VMs. */
export function sampleRun(runId = randomUUID(), overrides: Partial<RunStart> = {}): RunStart {
  const image = "quay.io/containerdisks/fedora:42";
  return {
    runId,
    command: "run",
    namespace: "virtwork",
    settings: {
      namespace: "virtwork",
      workloads: [{ name: "cpu" }, { name: "network" }],
      sshAuthConfigured: true,
    },
    kubeconfigPath: "/home/me/.kube/config",
    clusterContext: "admin@test",
    containerDiskImage: image,
    defaultCpuCores: 2,
    defaultMemory: "2Gi",
    dataDiskSize: "10Gi",
    dryRun: false,
    sshAuthConfigured: true,
    waitForReady: true,
    readyTimeoutSeconds: 600,
    workloads: [
      { name: "cpu", vmCount: 1, cpuCores: 2, memory: "2Gi", hasDataDisk: false, requiresService: false },
      {
        name: "network",
        vmCount: 2,
        cpuCores: 4,
        memory: "4Gi",
        hasDataDisk: true,
        dataDiskSize: "10Gi",
        requiresService: true,
      },
    ],
    vms: [
      {
        name: "virtwork-cpu-0",
        workload: "cpu",
        cpuCores: 2,
        memory: "2Gi",
        containerDiskImage: image,
        hasDataDisk: false,
      },
      {
        name: "virtwork-network-server-0",
        workload: "network",
        role: "server",
        cpuCores: 4,
        memory: "4Gi",
        containerDiskImage: image,
        hasDataDisk: true,
        dataDiskSize: "10Gi",
      },
      {
        name: "virtwork-network-client-0",
        workload: "network",
        role: "client",
        cpuCores: 4,
        memory: "4Gi",
        containerDiskImage: image,
        hasDataDisk: true,
        dataDiskSize: "10Gi",
      },
    ],
    ...overrides,
  };
}

/** Node flags a child process needs to run our TypeScript with node:sqlite on every Node >= 22.12. */
export const CHILD_NODE_FLAGS = ["--experimental-strip-types", "--experimental-sqlite"];
