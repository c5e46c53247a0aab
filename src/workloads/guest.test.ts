import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import { renderCloudConfig } from "../cloudinit/cloud-config.ts";
import { chaosNetwork } from "./builtin/chaos-network.ts";
import { database } from "./builtin/database.ts";
import { tps } from "./builtin/tps.ts";
import {
  centosStream,
  debian,
  fedora,
  GUEST_OS_NAMES,
  GUEST_PROFILES,
  guestOsFromImage,
  guestProfile,
  ubuntu,
} from "./guest.ts";
import { BUILTIN_WORKLOADS } from "./registry.ts";
import { buildWorkload, fileAt, roleUserData } from "./testing.ts";
import { guestOf } from "./types.ts";

const PIN = new URL("./guest-fedora.pin.json", import.meta.url);

/** sha256 of every built-in workload's user-data (default params), per role. */
function userDataDigests(guest = fedora): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of BUILTIN_WORKLOADS) {
    for (const r of buildWorkload(w, { guest }).roles) {
      const key = `${w.name}${r.role ? `/${r.role}` : ""}`;
      out[key] = createHash("sha256")
        .update(renderCloudConfig(guestOf(r, 0)))
        .digest("hex");
    }
  }
  return out;
}

describe("Fedora output is pinned", () => {
  // The default guest's user-data must not change when profiles change. After an intended
  // change of a workload, refresh with: VIRTWORK_UPDATE_PIN=1 npm test
  test("every built-in workload renders the pinned Fedora user-data", () => {
    const digests = userDataDigests();
    if (process.env.VIRTWORK_UPDATE_PIN === "1") writeFileSync(PIN, `${JSON.stringify(digests, null, 2)}\n`);
    assert.deepEqual(digests, JSON.parse(readFileSync(PIN, "utf8")));
  });
});

describe("profile lookup", () => {
  test("every name has a profile of that name", () => {
    for (const name of GUEST_OS_NAMES) assert.equal(guestProfile(name).name, name);
    assert.deepEqual(Object.keys(GUEST_PROFILES).sort(), [...GUEST_OS_NAMES].sort());
  });

  test("well-known containerdisk images imply their OS", () => {
    assert.equal(guestOsFromImage("quay.io/containerdisks/fedora:42"), "fedora");
    assert.equal(guestOsFromImage("quay.io/containerdisks/centos-stream:9"), "centos-stream");
    assert.equal(guestOsFromImage("quay.io/containerdisks/ubuntu:24.04"), "ubuntu");
    assert.equal(guestOsFromImage("quay.io/containerdisks/debian"), "debian");
    assert.equal(guestOsFromImage(`quay.io/containerdisks/debian:12@sha256:${"a".repeat(64)}`), "debian");
    // A mirror of the containerdisks repositories (disconnected clusters) implies the same.
    assert.equal(guestOsFromImage("mirror.example:5000/containerdisks/ubuntu:24.04"), "ubuntu");
    assert.equal(guestOsFromImage("registry.example/virt/containerdisks/fedora:42"), "fedora");
  });

  test("other images imply nothing", () => {
    for (const image of [
      "quay.io/containerdisks/opensuse-leap:15.6",
      "quay.io/containerdisks/centos:7",
      "containerdisks/fedora:42",
      "quay.io/someone/fedora:42",
      "fedora:42",
    ]) {
      assert.equal(guestOsFromImage(image), undefined, image);
    }
  });
});

describe("per-profile mapping", () => {
  test("Fedora: dnf names, postgresql-setup, kernel-modules-extra for netem", () => {
    assert.equal(fedora.packages.tc, "iproute-tc");
    assert.equal(fedora.packages.procps, "procps-ng");
    assert.equal(fedora.packages.netperf, "netperf");
    assert.deepEqual(fedora.packages.postgresqlServer, ["postgresql-server", "postgresql-contrib"]);
    assert.equal(fedora.postgresql.initdb, "postgresql-setup --initdb");
    assert.match(fedora.netemModules?.join(" ") ?? "", /kernel-modules-extra/);
  });

  test("CentOS Stream: Fedora's names, but no netperf outside EPEL", () => {
    assert.deepEqual(centosStream.postgresql, fedora.postgresql);
    assert.equal(centosStream.packages.tc, "iproute-tc");
    assert.equal(centosStream.packages.netperf, undefined);
    assert.match(centosStream.netemModules?.join(" ") ?? "", /kernel-modules-extra/);
  });

  test("Debian: apt names, versioned cluster via pg_createcluster, netem in the kernel package", () => {
    assert.equal(debian.packages.tc, "iproute2");
    assert.equal(debian.packages.procps, "procps");
    assert.equal(debian.packages.netperf, undefined);
    assert.deepEqual(debian.packages.postgresqlServer, ["postgresql", "postgresql-contrib"]);
    assert.match(
      debian.postgresql.initdb,
      /pg_createcluster --datadir=\/var\/lib\/postgresql\/virtwork --start/,
    );
    assert.match(debian.postgresql.initdb, /pg_dropcluster --stop "\$PG_MAJOR" main/);
    assert.equal(debian.netemModules, undefined);
  });

  test("Ubuntu: Debian's layout, netperf from multiverse, netem from linux-modules-extra", () => {
    assert.deepEqual(ubuntu.postgresql, debian.postgresql);
    assert.equal(ubuntu.packages.netperf, "netperf");
    assert.match(ubuntu.netemModules?.join(" ") ?? "", /linux-modules-extra-\$\(uname -r\)/);
  });

  test("no profile names another distribution's package manager", () => {
    for (const p of [debian, ubuntu]) {
      assert.doesNotMatch(JSON.stringify(p), /\bdnf\b|\byum\b|postgresql-setup/, p.name);
    }
    for (const p of [fedora, centosStream]) {
      assert.doesNotMatch(JSON.stringify(p), /apt-get|pg_createcluster/, p.name);
    }
  });
});

describe("workloads ask the profile", () => {
  for (const profile of Object.values(GUEST_PROFILES)) {
    test(`${profile.name}: package lists name only the profile's packages`, () => {
      const known = new Set(
        Object.values(profile.packages).flatMap((p) => (Array.isArray(p) ? p : p === undefined ? [] : [p])),
      );
      for (const w of BUILTIN_WORKLOADS) {
        for (const r of buildWorkload(w, { guest: profile }).roles) {
          for (const pkg of guestOf(r, 0).packages) assert.ok(known.has(pkg), `${w.name}: ${pkg}`);
        }
      }
    });
  }

  test("database: the profile's initdb runs in the setup script, before the server starts", () => {
    for (const profile of [fedora, debian]) {
      const doc = roleUserData(buildWorkload(database, { guest: profile }));
      const setup = fileAt(doc, "/usr/local/bin/virtwork-db-setup.sh").content;
      const lastInit = profile.postgresql.initdb.split("\n").at(-1) ?? "";
      const init = setup.indexOf(lastInit);
      const start = setup.indexOf(`systemctl enable --now ${profile.postgresql.serviceUnit}`);
      assert.ok(init > 0 && start > init, `${profile.name}: initdb before start`);
      assert.ok(setup.indexOf(`mount "$DISK" "$DATA_DIR"`) < init, `${profile.name}: mounted before initdb`);
      assert.match(setup, new RegExp(`DATA_DIR="${profile.postgresql.dataDir}"`));
      assert.deepEqual(doc.packages, [...profile.packages.postgresqlServer, profile.packages.xfs]);
    }
  });

  test("tps without netperf: HTTP rounds only, no netperf package or command", () => {
    const out = buildWorkload(tps, { guest: debian });
    for (const role of ["server", "client"]) {
      const doc = roleUserData(out, role);
      assert.ok(!doc.packages.includes("netperf"), role);
      for (const f of doc.write_files) assert.doesNotMatch(f.content, /\bnetserver\b|netperf -H/, f.path);
    }
    const client = fileAt(roleUserData(out, "client"), "/usr/local/bin/virtwork-tps-client.sh").content;
    assert.match(client, /TCP_RR rounds skipped, HTTP rounds only/);
    assert.match(client, /http:\/\/\$SERVER:8080\/testfile/);
    assert.doesNotMatch(client, /MSG_SIZE/);
  });

  test("tps with netperf (Ubuntu): netserver and TCP_RR rounds", () => {
    const out = buildWorkload(tps, { guest: ubuntu });
    assert.ok(roleUserData(out, "server").packages.includes("netperf"));
    const client = fileAt(roleUserData(out, "client"), "/usr/local/bin/virtwork-tps-client.sh").content;
    assert.match(client, /netperf -H "\$SERVER" -p 12865 -t TCP_RR/);
  });

  test("chaos-network: module runcmd only where the profile has one", () => {
    assert.equal(roleUserData(buildWorkload(chaosNetwork, { guest: debian })).runcmd.length, 2);
    const ubuntuRuncmd = roleUserData(buildWorkload(chaosNetwork, { guest: ubuntu })).runcmd;
    assert.deepEqual(ubuntuRuncmd[0], ubuntu.netemModules);
    const start = fileAt(
      roleUserData(buildWorkload(chaosNetwork, { guest: debian })),
      "/usr/local/bin/virtwork-chaos-network-start.sh",
    );
    assert.match(start.content, /\/usr\/sbin\/tc qdisc replace/);
  });
});
