/**
 * What workloads need from the guest OS, by purpose. Workloads never name distribution
 * packages or paths themselves; they ask the profile (design §4.9).
 */
export interface GuestProfile {
  name: GuestOsName;
  packages: {
    stress: string;
    fio: string;
    xfs: string;
    postgresqlServer: string[];
    iperf3: string;
    /**
     * Absent where the distribution's default repositories do not ship netperf (Debian:
     * non-free; CentOS Stream: EPEL only). tps then runs its HTTP transfer rounds only.
     */
    netperf?: string;
    python3: string;
    curl: string;
    tc: string;
    procps: string;
  };
  postgresql: {
    /** Where the data disk is mounted and the cluster's data lives. */
    dataDir: string;
    /**
     * Shell lines that initialise the empty data directory (run as root, under
     * `set -euo pipefail`) and leave the server ready to be started by `serviceUnit`.
     */
    initdb: string;
    /** The unit that starts the server; active only once the server accepts connections. */
    serviceUnit: string;
  };
  /**
   * The QEMU guest agent KubeVirt's readiness probe runs through (readiness.ts). `confined`:
   * the distribution's agent refuses guest-exec (the RPC filter in /etc/sysconfig/qemu-ga) and
   * SELinux confines what it runs, so the guest must open exactly what the probe needs.
   */
  guestAgent: { package: string; unit: string; confined: boolean };
  /** runcmd that makes sch_netem loadable, when the distribution ships it separately. */
  netemModules?: string[];
  tcPath: string;
  stressPath: string;
  iperf3Path: string;
  netserverPath: string;
}

export const GUEST_OS_NAMES = ["fedora", "centos-stream", "ubuntu", "debian"] as const;
export type GuestOsName = (typeof GUEST_OS_NAMES)[number];

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
  // Fedora's and RHEL's agent ship with guest-exec off and run confined (virt_qemu_ga_t).
  guestAgent: { package: "qemu-guest-agent", unit: "qemu-guest-agent.service", confined: true },
  netemModules: ["bash", "-c", 'dnf install -y "kernel-modules-extra-$(uname -r)" || true'],
  tcPath: "/usr/sbin/tc",
  stressPath: "/usr/bin/stress-ng",
  iperf3Path: "/usr/bin/iperf3",
  netserverPath: "/usr/bin/netserver",
};

/**
 * CentOS Stream (and RHEL-like guests): Fedora's package names and PostgreSQL layout, but
 * netperf is not in BaseOS/AppStream (only EPEL). sch_netem is in kernel-modules-extra.
 */
export const centosStream: GuestProfile = {
  ...fedora,
  name: "centos-stream",
  packages: (({ netperf: _, ...rest }) => rest)(fedora.packages),
};

/** The Debian/Ubuntu PostgreSQL layout: versioned clusters managed by postgresql-common. */
const DEBIAN_PG_DATA = "/var/lib/postgresql/virtwork";
const debianPostgresql: GuestProfile["postgresql"] = {
  // Not the versioned /var/lib/postgresql/<major>/main: the package install may already run
  // that cluster, and the data disk must not be mounted over a live data directory.
  dataDir: DEBIAN_PG_DATA,
  // The package creates (and starts) an empty default cluster "main" on the root disk; it is
  // replaced by a "main" of the installed major version whose data is on the data disk, so
  // psql/pgbench reach it on the default port. --start returns once the server accepts
  // connections (postgresql@<major>-main.service).
  initdb: [
    'PG_MAJOR="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf "%f\\n" | sort -V | tail -n 1)"',
    'pg_dropcluster --stop "$PG_MAJOR" main 2>/dev/null || true',
    `pg_createcluster --datadir=${DEBIAN_PG_DATA} --start "$PG_MAJOR" main`,
  ].join("\n"),
  // Debian's umbrella unit: ordered after every cluster's postgresql@ unit it starts.
  serviceUnit: "postgresql.service",
};

/** Debian: netperf is in non-free (not in the default sources); sch_netem is in the kernel package. */
export const debian: GuestProfile = {
  name: "debian",
  packages: {
    stress: "stress-ng",
    fio: "fio",
    xfs: "xfsprogs",
    // pgbench is in postgresql-client-<major>, pulled in by the server.
    postgresqlServer: ["postgresql", "postgresql-contrib"],
    iperf3: "iperf3",
    python3: "python3",
    curl: "curl",
    tc: "iproute2",
    procps: "procps",
  },
  postgresql: debianPostgresql,
  // Debian's agent allows every RPC and runs unconfined (no RPC filter, AppArmor has no profile for it).
  guestAgent: { package: "qemu-guest-agent", unit: "qemu-guest-agent.service", confined: false },
  tcPath: "/usr/sbin/tc",
  stressPath: "/usr/bin/stress-ng",
  iperf3Path: "/usr/bin/iperf3",
  netserverPath: "/usr/bin/netserver",
};

/**
 * Ubuntu: Debian's layout; netperf is in multiverse (enabled on Ubuntu cloud images); the
 * virtual/cloud kernels ship sch_netem in linux-modules-extra.
 */
export const ubuntu: GuestProfile = {
  ...debian,
  name: "ubuntu",
  packages: { ...debian.packages, netperf: "netperf" },
  netemModules: [
    "bash",
    "-c",
    'modprobe -n sch_netem 2>/dev/null || apt-get install -y "linux-modules-extra-$(uname -r)" || true',
  ],
};

export const GUEST_PROFILES: Readonly<Record<GuestOsName, GuestProfile>> = {
  fedora,
  "centos-stream": centosStream,
  ubuntu,
  debian,
};

export function guestProfile(name: GuestOsName): GuestProfile {
  return GUEST_PROFILES[name];
}

/**
 * The containerdisk each guest OS boots from when no image is given (`--guest-os X` alone):
 * the KubeVirt project's containerdisks, one tested release per OS.
 */
export const DEFAULT_IMAGES: Readonly<Record<GuestOsName, string>> = {
  fedora: "quay.io/containerdisks/fedora:42",
  "centos-stream": "quay.io/containerdisks/centos-stream:9",
  ubuntu: "quay.io/containerdisks/ubuntu:24.04",
  debian: "quay.io/containerdisks/debian:12",
};

/** `<registry>/[<path>/]containerdisks/<os>[:tag][@digest]`: the containerdisks project's images, or a mirror of them. */
const CONTAINERDISK =
  /^[a-z0-9.-]+(?::\d+)?\/(?:[a-z0-9._-]+\/)*containerdisks\/([a-z-]+)(?::[\w][\w.-]*)?(?:@sha256:[0-9a-f]{64})?$/;

/**
 * The guest OS a well-known containerdisk image implies: quay.io/containerdisks/<os>[:tag],
 * or the same repository in a mirror registry (disconnected clusters).
 */
export function guestOsFromImage(image: string): GuestOsName | undefined {
  const os = CONTAINERDISK.exec(image)?.[1];
  return (GUEST_OS_NAMES as readonly string[]).includes(os ?? "") ? (os as GuestOsName) : undefined;
}

export interface GivenValue<T> {
  value: T;
  /** Where it came from, as error messages name it ("--guest-os", "config file x: guest-os"). */
  source: string;
}

export type GuestChoice =
  | { guestOs: GuestOsName; image: string; guestOsSource: string; imageSource: string }
  | { problem: string };

/**
 * The guest OS and boot image of a run, which must agree: `--guest-os X` alone boots X's
 * containerdisk; an image alone implies its OS (else fedora); both given must not contradict.
 */
export function chooseGuest(given: {
  guestOs?: GivenValue<GuestOsName>;
  image?: GivenValue<string>;
}): GuestChoice {
  const { guestOs, image } = given;
  if (!image) {
    const os = guestOs?.value ?? "fedora";
    return {
      guestOs: os,
      image: DEFAULT_IMAGES[os],
      guestOsSource: guestOs?.source ?? "default",
      imageSource: guestOs ? `implied by ${guestOs.source}` : "default",
    };
  }
  const implied = guestOsFromImage(image.value);
  if (!guestOs) {
    return {
      guestOs: implied ?? "fedora",
      image: image.value,
      guestOsSource: implied ? `implied by ${image.source}` : "default",
      imageSource: image.source,
    };
  }
  if (implied !== undefined && implied !== guestOs.value) {
    return {
      problem:
        `${guestOs.source}: guest OS "${guestOs.value}" contradicts ${image.source} "${image.value}", which is a ${implied} image; ` +
        `change ${guestOs.source} to ${implied}, or the image to a ${guestOs.value} one (e.g. ${DEFAULT_IMAGES[guestOs.value]})`,
    };
  }
  return {
    guestOs: guestOs.value,
    image: image.value,
    guestOsSource: guestOs.source,
    imageSource: image.source,
  };
}
