import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseManifest, validateManifestValue } from "./manifest.ts";
import { formatProblem } from "./problems.ts";

const FILE = "cat/e/workload.yaml";

function problemsOf(text: string): string[] {
  const r = parseManifest(text, FILE);
  assert.equal(r.manifest, undefined, "manifest should be rejected");
  assert.ok(r.problems.length > 0);
  return r.problems.map(formatProblem);
}

/** [what, manifest text, expected problem (regex over "file:line: field: message")] */
const REJECTED: [string, string, RegExp][] = [
  ["malformed YAML", "params: [\n", /^cat\/e\/workload\.yaml:\d+: malformed YAML: /],
  ["tab indentation", "roles:\n\t- name: a\n", /malformed YAML/],
  ["duplicate keys", "description: a\ndescription: b\n", /:2: malformed YAML: Map keys must be unique/],
  ["a list at the top", "- a\n- b\n", /:1: the top level must be a map/],
  ["a scalar at the top", "hello\n", /the top level must be a map/],
  [
    "unknown top-level key with a suggestion",
    "pakages: [a]\n",
    /:1: pakages: unknown key \(did you mean "packages"\?\)/,
  ],
  ["description not a string", "description: [a]\n", /description: must be a string/],
  ["packages not a list", "packages: redis\n", /packages: must be a list of package names, got "redis"/],
  ["package with a space", "packages: ['a b']\n", /packages\[0\]: "a b" must be a package name/],
  ["package listed twice", "packages: [a, a]\n", /packages\[1\]: package "a" is listed twice/],
  ["param not a map", "params: [x]\n", /params\[0\]: must be a map with keys key, type/],
  ["param without key", "params: [{type: int, default: 1}]\n", /params\[0\]\.key: is required/],
  [
    "param key with upper case",
    "params: [{key: Threads, default: 1}]\n",
    /params\[0\]\.key: "Threads" must be lower-case/,
  ],
  [
    "param key with underscore",
    "params: [{key: a_b, default: x}]\n",
    /params\[0\]\.key: "a_b" must be lower-case/,
  ],
  [
    "duplicate param",
    "params: [{key: a, default: x}, {key: a, default: y}]\n",
    /params\[1\]\.key: duplicate param "a"/,
  ],
  [
    "unknown param type with a suggestion",
    "params: [{key: a, type: integer, default: 1}]\n",
    /params\[0\]\.type: unknown type "integer" \(did you mean "int"\?\)/,
  ],
  ["param without default", "params: [{key: a, type: int}]\n", /params\[0\]\.default: is required/],
  [
    "int default not an integer",
    "params: [{key: a, type: int, default: 1.5}]\n",
    /params\[0\]\.default: "1.5" must be an integer \(type int\)/,
  ],
  [
    "bool default not a bool",
    "params: [{key: a, type: bool, default: yes}]\n",
    /default: "yes" must be "true" or "false"/,
  ],
  [
    "list default with an empty item",
    "params: [{key: a, type: list, default: 'a;'}]\n",
    /default: "a;" must be a ;-separated list/,
  ],
  [
    "dict default without =",
    "params: [{key: a, type: dict, default: 'a;b'}]\n",
    /must be ;-separated key=value pairs/,
  ],
  ["string default empty", "params: [{key: a, default: ''}]\n", /params\[0\]\.default: "" must not be empty/],
  [
    "default as a YAML list",
    "params: [{key: a, type: list, default: [x, y]}]\n",
    /must be a single value.*write a list as "a;b;c"/,
  ],
  ["default with a newline", 'params: [{key: a, default: "x\\ny"}]\n', /must not contain newlines/],
  [
    "desc and description both",
    "params: [{key: a, default: x, desc: d, description: e}]\n",
    /give either "desc" or "description"/,
  ],
  [
    "unknown param key",
    "params: [{key: a, default: x, defualt: y}]\n",
    /params\[0\]\.defualt: unknown key \(did you mean "default"\?\)/,
  ],
  [
    "min on a string",
    "params: [{key: a, default: x, min: 1}]\n",
    /params\[0\]\.min: only int params take min/,
  ],
  ["max below min", "params: [{key: a, type: int, default: 5, min: 10, max: 1}]\n", /max 1 is below min 10/],
  [
    "min not a number",
    "params: [{key: a, type: int, default: 5, min: one}]\n",
    /params\[0\]\.min: must be a whole number/,
  ],
  [
    "default below min",
    "params: [{key: a, type: int, default: 0, min: 1, max: 9}]\n",
    /default: "0" must be between 1 and 9/,
  ],
  [
    "enum on an int",
    "params: [{key: a, type: int, default: 1, enum: [1, 2]}]\n",
    /only string params take enum/,
  ],
  ["enum empty", "params: [{key: a, default: x, enum: []}]\n", /enum: must be a non-empty list/],
  [
    "enum value with a quote",
    'params: [{key: a, default: x, enum: [x, "it\'s"]}]\n',
    /enum\[1\]: "it's" may hold only letters/,
  ],
  ["enum value twice", "params: [{key: a, default: x, enum: [x, x]}]\n", /enum\[1\]: "x" is listed twice/],
  [
    "default not in the enum",
    "params: [{key: a, default: z, enum: [x, y]}]\n",
    /default: "z" must be one of x, y/,
  ],
  [
    "pattern on a bool",
    "params: [{key: a, type: bool, default: true, pattern: x}]\n",
    /only string params take pattern/,
  ],
  [
    "pattern that is no regex",
    "params: [{key: a, default: x, pattern: '(['}]\n",
    /pattern: is not a valid regular expression/,
  ],
  [
    "enum and pattern",
    "params: [{key: a, default: x, enum: [x], pattern: x}]\n",
    /give either "enum" or "pattern"/,
  ],
  [
    "default not matching the pattern",
    "params: [{key: a, default: X, pattern: '[a-z]+'}]\n",
    /must match the pattern \[a-z\]\+/,
  ],
  [
    "a pattern cannot widen the characters",
    "params: [{key: a, default: 'a b', pattern: '.*'}]\n",
    /"a b" may hold only letters/,
  ],
  [
    "string default with a shell character",
    "params: [{key: a, default: '$(id)'}]\n",
    /"\$\(id\)" may hold only/,
  ],
  [
    "list item with a space",
    "params: [{key: a, type: list, default: 'a;b c'}]\n",
    /item "b c" may hold only/,
  ],
  [
    "mount on /etc",
    "storage: [{name: a, serial: s, mount: /etc}]\n",
    /storage\[0\]\.mount: "\/etc" must be a directory below \/mnt/,
  ],
  ["mount on /usr/lib", "storage: [{name: a, serial: s, mount: /usr/lib}]\n", /must be a directory below/],
  [
    "mount on /var/lib/rpm",
    "storage: [{name: a, serial: s, mount: /var/lib/rpm}]\n",
    /would hide \/var\/lib\/rpm/,
  ],
  ["mount on /home", "storage: [{name: a, serial: s, mount: /home}]\n", /must be a directory below/],
  ["roles not a list", "roles: server\n", /roles: must be a list of roles/],
  ["roles empty", "roles: []\n", /roles: must declare at least one role/],
  ["role without name", "roles: [{vm-count: 1}]\n", /roles\[0\]\.name: is required/],
  ["role name not DNS", "roles: [{name: Server}]\n", /roles\[0\]\.name: "Server" must be a DNS-1123 label/],
  ["duplicate role", "roles: [{name: a}, {name: a}]\n", /roles\[1\]\.name: duplicate role "a"/],
  [
    "negative vm-count",
    "roles: [{name: a, vm-count: -1}]\n",
    /roles\[0\]\.vm-count: must be between 0 and 10000, got -1/,
  ],
  [
    "vm-count as a string",
    "roles: [{name: a, vm-count: '2'}]\n",
    /vm-count: must be a whole number between 0 and 10000, got "2"/,
  ],
  ["unknown role key", "roles: [{name: a, count: 2}]\n", /roles\[0\]\.count: unknown key/],
  ["storage not a list", "storage: {name: a}\n", /storage: must be a list of disks/],
  ["storage without name", "storage: [{serial: s, mount: /mnt/m}]\n", /storage\[0\]\.name: is required/],
  [
    "storage name reserved",
    "storage: [{name: datadisk, serial: s, mount: /mnt/m}]\n",
    /storage\[0\]\.name: "datadisk" is reserved/,
  ],
  [
    "storage name not DNS",
    "storage: [{name: My_Disk, serial: s, mount: /mnt/m}]\n",
    /must be a DNS-1123 label/,
  ],
  [
    "duplicate storage name",
    "storage: [{name: a, serial: s, mount: /mnt/m}, {name: a, serial: t, mount: /mnt/n}]\n",
    /storage\[1\]\.name: duplicate storage name "a"/,
  ],
  [
    "bad size",
    "storage: [{name: a, size: 10GB, serial: s, mount: /mnt/m}]\n",
    /storage\[0\]\.size: "10GB" is not a Kubernetes quantity/,
  ],
  [
    "size too small",
    "storage: [{name: a, size: 1Mi, serial: s, mount: /mnt/m}]\n",
    /storage\[0\]\.size: "1Mi" is too small \(must be at least 300Mi/,
  ],
  [
    "negative size",
    "storage: [{name: a, size: -1Gi, serial: s, mount: /mnt/m}]\n",
    /storage\[0\]\.size: "-1Gi" is too small/,
  ],
  [
    "size as a list",
    "storage: [{name: a, size: [1], serial: s, mount: /mnt/m}]\n",
    /size: must be a size such as 10Gi/,
  ],
  ["serial missing", "storage: [{name: a, mount: /mnt/m}]\n", /storage\[0\]\.serial: is required/],
  [
    "serial over 20 characters",
    "storage: [{name: a, serial: abcdefghijklmnopqrstu, mount: /mnt/m}]\n",
    /storage\[0\]\.serial: "abcdefghijklmnopqrstu" is 21 characters; virtio serials hold at most 20/,
  ],
  [
    "serial with a slash",
    "storage: [{name: a, serial: a/b, mount: /mnt/m}]\n",
    /serial: "a\/b" must be letters, digits/,
  ],
  [
    "duplicate serial",
    "storage: [{name: a, serial: s, mount: /mnt/m}, {name: b, serial: s, mount: /mnt/n}]\n",
    /storage\[1\]\.serial: duplicate storage serial "s"/,
  ],
  [
    "relative mount",
    "storage: [{name: a, serial: s, mount: data}]\n",
    /storage\[0\]\.mount: "data" must be an absolute path/,
  ],
  ["mount at /", "storage: [{name: a, serial: s, mount: /}]\n", /mount: "\/" must be a directory below \//],
  ["mount with ..", "storage: [{name: a, serial: s, mount: /a/../b}]\n", /without "\." or "\.\." parts/],
  [
    "mount with a space",
    "storage: [{name: a, serial: s, mount: /a b}]\n",
    /must be an absolute path of letters/,
  ],
  [
    "duplicate mount",
    "storage: [{name: a, serial: s, mount: /mnt/m}, {name: b, serial: t, mount: /mnt/m/}]\n",
    /storage\[1\]\.mount: duplicate storage mount "\/mnt\/m"/,
  ],
  [
    "storage roles without declared roles",
    "storage: [{name: a, serial: s, mount: /m, roles: [server]}]\n",
    /storage\[0\]\.roles: names roles, but the entry declares no roles/,
  ],
  [
    "storage role not declared",
    "roles: [{name: server}, {name: client}]\nstorage: [{name: a, serial: s, mount: /m, roles: [sever]}]\n",
    /storage\[0\]\.roles\[0\]: "sever" is not a declared role \(did you mean "server"\?\); roles: server, client/,
  ],
  [
    "storage roles empty",
    "roles: [{name: server}]\nstorage: [{name: a, serial: s, mount: /m, roles: []}]\n",
    /storage\[0\]\.roles: must name at least one role; leave roles out/,
  ],
  [
    "storage role twice",
    "roles: [{name: server}]\nstorage: [{name: a, serial: s, mount: /m, roles: [server, server]}]\n",
    /storage\[0\]\.roles\[1\]: role "server" is named twice/,
  ],
  [
    "storage roles not a list",
    "roles: [{name: server}]\nstorage: [{name: a, serial: s, mount: /m, roles: server}]\n",
    /storage\[0\]\.roles: must be a list of role names/,
  ],
  ["service not a map", "service: [80]\n", /service: must be a map with keys ports, selector-role/],
  ["service without ports", "service: {}\n", /service\.ports: must declare at least one port/],
  ["service with empty ports", "service: {ports: []}\n", /service\.ports: must declare at least one port/],
  [
    "port 0",
    "service: {ports: [{name: a, port: 0}]}\n",
    /service\.ports\[0\]\.port: must be between 1 and 65535, got 0/,
  ],
  ["port 70000", "service: {ports: [{name: a, port: 70000}]}\n", /must be between 1 and 65535, got 70000/],
  [
    "port as a string",
    "service: {ports: [{name: a, port: '80'}]}\n",
    /port: must be a whole number between 1 and 65535, got "80"/,
  ],
  ["port without name", "service: {ports: [{port: 80}]}\n", /service\.ports\[0\]\.name: is required/],
  ["port name with upper case", "service: {ports: [{name: HTTP, port: 80}]}\n", /"HTTP" must be a port name/],
  ["port name only digits", "service: {ports: [{name: '8080', port: 80}]}\n", /"8080" must be a port name/],
  [
    "port name too long",
    "service: {ports: [{name: abcdefghijklmnop, port: 80}]}\n",
    /longer than 15 characters/,
  ],
  [
    "bad protocol",
    "service: {ports: [{name: a, port: 80, protocol: SCTP}]}\n",
    /protocol: must be TCP or UDP, got "SCTP"/,
  ],
  [
    "duplicate port",
    "service: {ports: [{name: a, port: 80}, {name: b, port: 80, protocol: tcp}]}\n",
    /service\.ports\[1\]\.port: port 80\/TCP is declared twice/,
  ],
  [
    "duplicate port name",
    "service: {ports: [{name: a, port: 80}, {name: a, port: 81}]}\n",
    /duplicate port name "a"/,
  ],
  [
    "selector-role without roles",
    "service: {ports: [{name: a, port: 80}], selector-role: server}\n",
    /service\.selector-role: "server" selects a role, but the entry declares no roles/,
  ],
  [
    "selector-role not declared",
    "roles: [{name: server}, {name: client}]\nservice: {ports: [{name: a, port: 80}], selector-role: sever}\n",
    /"sever" is not a declared role \(did you mean "server"\?\)/,
  ],
  ["both spellings of a key", "roles: [{name: a, vm-count: 1, vm_count: 2}]\n", /"vm-count" is given twice/],
];

describe("workload.yaml validation", () => {
  for (const [what, text, expected] of REJECTED) {
    it(`rejects ${what}`, () => {
      const problems = problemsOf(text);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected ${expected} in:\n${problems.join("\n")}`,
      );
      for (const p of problems) assert.ok(!p.includes("\n"), "one line per problem");
    });
  }

  it("a param default is the text the user wrote (YAML would read 0123 as 123, 1e3 as 1000)", () => {
    const r = parseManifest(
      "params:\n  - {key: pin, default: 0123}\n  - {key: rate, default: 1e3}\n  - {key: n, type: int, default: 010}\n",
      FILE,
    );
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.manifest?.params.map((p) => [p.key, p.default]),
      [
        ["pin", "0123"],
        ["rate", "1e3"],
        ["n", "10"],
      ],
    );
    assert.match(
      problemsOf("params: [{key: n, type: int, default: 0x10}]\n").join("\n"),
      /params\[0\]\.default: "0x10" must be an integer/,
    );
  });

  it("names the line of the offending field", () => {
    const text = "description: x\nservice:\n  ports:\n    - name: redis\n      port: 99999\n";
    assert.deepEqual(problemsOf(text), [
      "cat/e/workload.yaml:5: service.ports[0].port: must be between 1 and 65535, got 99999",
    ]);
  });

  it("reports every problem at once", () => {
    const problems = problemsOf(
      "packages: [a, a]\nroles: [{name: X}]\nstorage: [{name: d, serial: s, mount: rel}]\n",
    );
    assert.equal(problems.length, 3, problems.join("\n"));
  });

  it("parses a full manifest, with defaults for what is left out", () => {
    const r = parseManifest(
      `description: "  two\n  lines "
packages: [redis]
params:
  - {key: num-clients, type: INT, default: 10, desc: clients}
  - {key: mode, default: "set,get"}
  - {key: on, type: bool, default: true, description: flag}
  - {key: items, type: list, default: "a;b"}
  - {key: env, type: dict, default: "a=1;b=x=y"}
roles:
  - {name: server, vm-count: 1}
  - {name: client}
  - {name: spare, vm_count: 0}
storage:
  - {name: redis-data, size: 10Gi, serial: vw-redis, mount: /var/lib/redis/}
  - {name: scratch, serial: vw-scratch, mount: /srv/scratch}
service:
  ports:
    - {name: redis, port: 6379}
    - {name: stats, port: 9121, protocol: udp}
  selector-role: server
`,
      FILE,
    );
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.manifest, {
      description: "two lines",
      packages: ["redis"],
      params: [
        { key: "num-clients", type: "int", default: "10", description: "clients" },
        { key: "mode", type: "string", default: "set,get", description: "" },
        { key: "on", type: "bool", default: "true", description: "flag" },
        { key: "items", type: "list", default: "a;b", description: "" },
        { key: "env", type: "dict", default: "a=1;b=x=y", description: "" },
      ],
      roles: [
        { name: "server", vmCount: 1 },
        { name: "client", vmCount: 0 },
        { name: "spare", vmCount: 0 },
      ],
      storage: [
        { name: "redis-data", size: "10Gi", serial: "vw-redis", mount: "/var/lib/redis" },
        { name: "scratch", serial: "vw-scratch", mount: "/srv/scratch" },
      ],
      service: {
        ports: [
          { name: "redis", port: 6379, protocol: "TCP" },
          { name: "stats", port: 9121, protocol: "UDP" },
        ],
        selectorRole: "server",
      },
    });
  });

  it("an empty file or an explicit null means an empty single-role manifest", () => {
    for (const text of ["", "# only a comment\n", "~\n"]) {
      assert.deepEqual(parseManifest(text, FILE).manifest, {
        description: "",
        packages: [],
        params: [],
        roles: [],
        storage: [],
      });
    }
  });

  it("a serial of exactly 20 characters is accepted", () => {
    const r = validateManifestValue(
      { storage: [{ name: "a", serial: "abcdefghijklmnopqrst", mount: "/mnt/m" }] },
      FILE,
    );
    assert.deepEqual(r.problems, []);
  });

  it("alias bombs are refused, not expanded", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 12; i++)
      lines.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    const r = parseManifest(`${lines.join("\n")}\n`, FILE);
    assert.equal(r.manifest, undefined);
    assert.ok(r.problems.length > 0);
  });
});
