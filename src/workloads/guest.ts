/**
 * What workloads need from the guest OS, by purpose. Workloads never name distribution
 * packages or paths themselves; they ask the profile (design §4.9).
 */
export interface GuestProfile {
  name: string;
  packages: {
    stress: string;
    fio: string;
    xfs: string;
    postgresqlServer: string[];
    iperf3: string;
    netperf: string;
    python3: string;
    curl: string;
    tc: string;
    procps: string;
  };
  postgresql: {
    dataDir: string;
    /** Initialises an empty data directory (run as root). */
    initdb: string;
    serviceUnit: string;
  };
  /** runcmd that makes sch_netem loadable, when the distribution ships it separately. */
  netemModules?: string[];
  tcPath: string;
  stressPath: string;
  iperf3Path: string;
}

export const fedora: GuestProfile = {
  name: "fedora",
  packages: {
    stress: "stress-ng",
    fio: "fio",
    xfs: "xfsprogs",
    // pgbench ships in -contrib on Fedora; the Go original installed only -server.
    postgresqlServer: ["postgresql-server", "postgresql-contrib"],
    iperf3: "iperf3",
    netperf: "netperf",
    python3: "python3",
    curl: "curl",
    tc: "iproute-tc",
    procps: "procps-ng",
  },
  postgresql: {
    dataDir: "/var/lib/pgsql/data",
    initdb: "postgresql-setup --initdb",
    serviceUnit: "postgresql.service",
  },
  netemModules: ["bash", "-c", 'dnf install -y "kernel-modules-extra-$(uname -r)" || true'],
  tcPath: "/usr/sbin/tc",
  stressPath: "/usr/bin/stress-ng",
  iperf3Path: "/usr/bin/iperf3",
};
