/**
 * Property tests: whatever a catalog holds, loading it either succeeds or throws a
 * UsageError (one line, exit 2), never anything else; and what loads also builds and plans.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import { UsageError } from "../../errors.ts";
import { fedora } from "../guest.ts";
import { parseEntry } from "./entry.ts";
import { parseManifest } from "./manifest.ts";
import { catalogWorkload } from "./workload.ts";

const BUILTINS = new Set(["cpu"]);

/** Values that are sometimes right and often subtly wrong for a manifest field. */
const scalar = fc.oneof(
  fc.constantFrom(
    "server",
    "client",
    "a",
    "x-1",
    "",
    " ",
    "10Gi",
    "1Mi",
    "abc",
    "/mnt/data",
    "rel",
    "TCP",
    "udp",
  ),
  fc.constantFrom(
    "int",
    "string",
    "bool",
    "list",
    "dict",
    "integer",
    "true",
    "a;b",
    "k=v",
    "{{x}}",
    "%h",
    "a\nb",
  ),
  fc.integer({ min: -5, max: 70000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 25 }),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("list"), tie("map")),
  list: fc.array(tie("any"), { maxLength: 4 }),
  map: fc.dictionary(
    fc.constantFrom(
      "name",
      "key",
      "type",
      "default",
      "desc",
      "vm-count",
      "vm_count",
      "size",
      "serial",
      "mount",
      "port",
      "protocol",
      "ports",
      "x",
    ),
    tie("any"),
    { maxKeys: 5 },
  ),
})).any;

const param = fc.record(
  {
    key: fc.oneof(fc.constantFrom("a", "b-c", "threads"), scalar),
    type: fc.oneof(fc.constantFrom("int", "string", "bool", "list", "dict"), scalar),
    default: scalar,
    desc: scalar,
  },
  { requiredKeys: [] },
);
const role = fc.record(
  { name: fc.oneof(fc.constantFrom("server", "client"), scalar), "vm-count": scalar },
  { requiredKeys: [] },
);
const storage = fc.record(
  {
    name: fc.oneof(fc.constantFrom("data", "datadisk"), scalar),
    size: scalar,
    serial: fc.oneof(fc.constantFrom("vw-a", "a".repeat(21)), scalar),
    mount: scalar,
  },
  { requiredKeys: [] },
);
const port = fc.record(
  { name: fc.oneof(fc.constantFrom("http", "HTTP"), scalar), port: scalar, protocol: scalar },
  { requiredKeys: [] },
);
const manifest = fc.record(
  {
    description: fc.oneof(scalar, value),
    packages: fc.oneof(fc.array(scalar, { maxLength: 3 }), value),
    params: fc.oneof(fc.array(param, { maxLength: 3 }), value),
    roles: fc.oneof(fc.array(role, { maxLength: 3 }), value),
    storage: fc.oneof(fc.array(storage, { maxLength: 2 }), value),
    service: fc.oneof(
      fc.record(
        { ports: fc.oneof(fc.array(port, { maxLength: 3 }), value), "selector-role": scalar },
        { requiredKeys: [] },
      ),
      value,
    ),
    extra: value,
  },
  { requiredKeys: [] },
);
const unitText = fc.oneof(
  fc.constant("[Service]\nExecStart=/bin/x {{a}} {{threads}}\n[Install]\nWantedBy=multi-user.target\n"),
  fc.constant("[Service]\nExecStart=/bin/x\n"),
  fc.string({ maxLength: 80 }),
);
const units = fc.dictionary(
  fc.oneof(
    fc.constantFrom("server.service", "client.service", "workload.service", "a b.service"),
    fc.string({ maxLength: 12 }).map((s) => `${s}.service`),
  ),
  unitText,
  { maxKeys: 3 },
);

function loadsOrRejects(
  name: string,
  manifestText: string | undefined,
  unitFiles: Record<string, string>,
): void {
  try {
    const files = {
      name,
      dir: `cat/${name}`,
      units: unitFiles,
      ...(manifestText === undefined ? {} : { manifest: manifestText }),
    };
    const workload = catalogWorkload(parseEntry(files, BUILTINS));
    const params = Object.fromEntries(workload.params.map((p) => [p.name, p.default]));
    const out = workload.build({ namespace: "virtwork", params, guest: fedora });
    assert.ok(out.roles.length >= 1);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    assert.ok(!err.message.includes("\n"), `one-line error: ${JSON.stringify(err.message)}`);
  }
}

describe("catalog loader (property tests)", () => {
  it("random text as workload.yaml: parsed or rejected, never a crash", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme-ascii", maxLength: 300 }), (text) => {
        parseManifest(text, "f.yaml");
        loadsOrRejects("e", text, { "workload.service": "[Service]\nExecStart=/bin/x\n" });
      }),
      { numRuns: 400 },
    );
  });

  it("random YAML-ish text with structure characters", () => {
    const piece = fc.constantFrom(
      "roles:",
      "\n",
      "  ",
      "- ",
      "name: ",
      "{",
      "}",
      "[",
      "]",
      ": ",
      "&a ",
      "*a",
      "!!int ",
      "'",
      '"',
      "#",
      "|",
      ">",
      "? ",
      ",",
      "~",
      "vm-count: ",
      "5",
      "-1",
      "x",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        loadsOrRejects("e", parts.join(""), { "server.service": "[Service]\nExecStart=/bin/x\n" });
      }),
      { numRuns: 500 },
    );
  });

  it("random manifests built from the schema's vocabulary, with random unit files and names", () => {
    fc.assert(
      fc.property(
        manifest,
        units,
        fc.oneof(fc.constantFrom("demo", "cpu", "all", "Bad", "x".repeat(70)), fc.string({ maxLength: 10 })),
        (m, u, name) => loadsOrRejects(name, stringify(m), u),
      ),
      { numRuns: 800 },
    );
  });

  it("any JSON value as the manifest", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) =>
        loadsOrRejects("demo", stringify(v), { "workload.service": "[Service]\nExecStart=/x\n" }),
      ),
      { numRuns: 300 },
    );
  });
});
