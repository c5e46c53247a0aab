/**
 * src/kube/prometheus.ts against a real Prometheus (Debian's package) on loopback: an
 * instant query returns what was scraped, a bad query is a bad-query error, Prometheus'
 * own 401 (web config with basic auth) names --prometheus-token, a closed port is
 * "cannot reach". Prometheus itself never answers 403 (it has no authorization), so the
 * 403 case is a loopback server standing in for an RBAC proxy (kube-rbac-proxy in front of
 * OpenShift's Thanos querier answers exactly that).
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { instantQuery, PrometheusError } from "../../src/kube/prometheus.ts";
import { havePrometheus, type PrometheusProcess, startPrometheus } from "./prometheus.ts";

const HASH = "$2b$05$1skLXanMG1kJSjwKHVDk5ub5ur9frjdco6937qUFv5gCWjodcOsg6"; // bcrypt("virtwork-test")
const skip = havePrometheus() ? false : "prometheus is not installed (make monitoring-test installs it)";

function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((r) =>
    server.listen(0, "127.0.0.1", () =>
      r({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe("instantQuery against a real Prometheus", { skip }, () => {
  let target: { server: Server; url: string };
  let prom: PrometheusProcess;
  let locked: PrometheusProcess;
  let counter = 0;
  before(async () => {
    target = await serve((_req, res) => {
      counter += 10;
      res.end(
        `# TYPE kubevirt_vmi_vcpu_seconds_total counter\nkubevirt_vmi_vcpu_seconds_total{name="vm-a",namespace="ns",id="0",state="running"} ${counter}\n`,
      );
    });
    const hostPort = new URL(target.url).host;
    prom = await startPrometheus({ targets: [hostPort] });
    locked = await startPrometheus({
      targets: [hostPort],
      basicAuth: { user: "virtwork", bcryptHash: HASH },
    });
  });
  after(async () => {
    await Promise.all([prom?.stop(), locked?.stop()]);
    target?.server.close();
  });

  test("returns the scraped series with their labels and a rate over them", async () => {
    const ep = { url: prom.url, source: "test" };
    const raw = await until("a scraped sample", async () => {
      const s = await instantQuery(ep, 'kubevirt_vmi_vcpu_seconds_total{namespace="ns"}');
      return s.length ? s : undefined;
    });
    assert.equal(raw[0]?.labels.name, "vm-a");
    assert.equal(raw[0]?.labels.id, "0");
    const rate = await until("a rate", async () => {
      const s = await instantQuery(
        ep,
        'sum by (name) (rate(kubevirt_vmi_vcpu_seconds_total{namespace="ns"}[30s]))',
      );
      return s.length && (s[0]?.value ?? 0) > 0 ? s : undefined;
    });
    assert.ok((rate[0]?.value ?? 0) > 0);
    assert.deepEqual(await instantQuery(ep, 'kubevirt_vmi_vcpu_seconds_total{namespace="other"}'), []);
  });

  test("a syntax error is a bad-query error that quotes the query", async () => {
    await assert.rejects(
      instantQuery({ url: prom.url, source: "test" }, "sum by (name) (rate(x[2m])"),
      (err: unknown) => {
        assert.ok(err instanceof PrometheusError);
        assert.equal(err.problem, "bad-query");
        assert.match(err.message, /rejected the query \(400\)/);
        return true;
      },
    );
  });

  test("Prometheus' own 401 names the token flag", async () => {
    await assert.rejects(
      instantQuery({ url: locked.url, source: "--prometheus-url", token: "wrong" }, "up"),
      (err: unknown) => {
        assert.ok(err instanceof PrometheusError);
        assert.equal(err.problem, "unauthorized");
        assert.match(
          err.message,
          /rejected the credentials \(401\): pass a valid bearer token with --prometheus-token/,
        );
        return true;
      },
    );
  });
});

describe("instantQuery errors without a Prometheus", () => {
  test("403 from an RBAC proxy names the role that is needed", async () => {
    const { server, url } = await serve((_req, res) => {
      res
        .writeHead(403)
        .end("Forbidden (user=virtwork-limited, verb=get, resource=namespaces, subresource=metrics)\n");
    });
    try {
      await assert.rejects(instantQuery({ url, source: "--prometheus-url" }, "up"), (err: unknown) => {
        assert.ok(err instanceof PrometheusError);
        assert.equal(err.problem, "forbidden");
        assert.match(err.message, /refused the query \(403 Forbidden\): .*cluster-monitoring-view/);
        return true;
      });
    } finally {
      server.close();
    }
  });

  test("a closed port is 'cannot reach', naming the URL and where it came from", async () => {
    const { server, url } = await serve(() => {});
    await new Promise((r) => server.close(r));
    await assert.rejects(instantQuery({ url, source: "--prometheus-url" }, "up"), (err: unknown) => {
      assert.ok(err instanceof PrometheusError);
      assert.equal(err.problem, "unreachable");
      assert.match(
        err.message,
        new RegExp(`cannot reach Prometheus at ${url} \\(--prometheus-url\\): .*ECONNREFUSED`),
      );
      return true;
    });
  });
});

describe("an answer too large to be about the run (issue 32)", () => {
  // A valid-looking vector answer that never ends soon: 300 MB of samples, streamed.
  const sample = JSON.stringify({ metric: { __name__: "up", job: "x".repeat(200) }, value: [1, "1"] });
  const HUGE = 300 * 1024 * 1024;
  function huge(declare: boolean) {
    return serve((_req, res) => {
      res.writeHead(200, {
        "Content-Type": "application/json",
        ...(declare ? { "Content-Length": String(HUGE) } : {}),
      });
      res.write('{"status":"success","data":{"resultType":"vector","result":[');
      const chunk = Buffer.from(`${sample},`.repeat(4096));
      let sent = 0;
      const pump = () => {
        while (sent < HUGE) {
          sent += chunk.length;
          if (!res.write(chunk)) return res.once("drain", pump);
        }
        res.end(`${sample}]}}`);
      };
      res.on("close", () => {
        sent = HUGE + 1; // the client hung up: stop
      });
      pump();
    });
  }
  for (const declare of [false, true]) {
    test(`is cut off at the bound, not read into memory (${declare ? "Content-Length says so" : "chunked, no length"})`, async () => {
      const { server, url } = await huge(declare);
      try {
        const before = process.memoryUsage().rss;
        const started = Date.now();
        await assert.rejects(instantQuery({ url, source: "--prometheus-url" }, "up"), (err: unknown) => {
          assert.ok(err instanceof PrometheusError, String(err));
          assert.equal(err.problem, "too-large");
          assert.equal(err.transient, false);
          assert.match(err.message, /sent .* for one query, more than virtwork reads \(32 MiB\)/);
          assert.match(err.message, /check --prometheus-url/);
          return true;
        });
        const grew = (process.memoryUsage().rss - before) / 1024 / 1024;
        assert.ok(grew < 150, `RSS grew ${grew.toFixed(0)} MiB reading a 300 MB answer`);
        assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });
  }
  test("an answer under the bound is read whole", async () => {
    const { server, url } = await serve((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({ status: "success", data: { resultType: "vector", result: [JSON.parse(sample)] } }),
      );
    });
    try {
      const got = await instantQuery({ url, source: "--prometheus-url" }, "up", { maxBytes: 4096 });
      assert.equal(got.length, 1);
      await assert.rejects(
        instantQuery({ url, source: "--prometheus-url" }, "up", { maxBytes: 100 }),
        /more than/,
      );
    } finally {
      server.close();
    }
  });
});
