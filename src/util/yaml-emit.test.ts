import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parse } from "yaml";
import { toYaml } from "./yaml-emit.ts";

const read11 = (text: string) => parse(text, { version: "1.1" });
const read12 = (text: string) => parse(text, { version: "1.2" });

describe("toYaml", () => {
  it("keeps YAML 1.1 look-alikes as strings", () => {
    const tricky = [
      "no",
      "on",
      "yes",
      "off",
      "y",
      "n",
      "~",
      "null",
      "0755",
      "0x1F",
      "1_000",
      "1:20",
      "1e3",
      ".inf",
      "2001-12-14",
      "",
      " lead",
      "trail ",
      "a: b",
      "#c",
      "- x",
      "@x",
      "*a",
      "&a",
      "!t",
      "%p",
      "`b",
      "'q'",
      '"d"',
      "{x}",
      "[y]",
      "ALL=(ALL) NOPASSWD:ALL",
      "E0",
      "e5",
    ];
    const doc = { list: tricky, map: Object.fromEntries(tricky.map((t, i) => [t === "" ? "empty" : t, i])) };
    assert.deepEqual(read11(toYaml(doc)), doc);
    assert.deepEqual(read12(toYaml(doc)), doc);
  });

  it("writes multi-line strings as literal blocks with exact chomping", () => {
    for (const text of ["a\nb\n", "a\nb", "a\nb\n\n", "  indented\nx\n", "tab\there\n", "x\n\n\ny\n"]) {
      const yaml = toYaml({ content: text });
      assert.deepEqual(read11(yaml), { content: text }, yaml);
    }
    assert.match(
      toYaml({ content: "#!/bin/bash\necho hi\n" }),
      /^content: \|\n {2}#!\/bin\/bash\n {2}echo hi$/m,
    );
  });

  it("round-trips arbitrary JSON-like data under YAML 1.1 and 1.2", () => {
    const key = fc.string({ maxLength: 8 }).filter((k) => k !== "__proto__");
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(1.5, -0.25, 3.125),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(key, tie("node"), { maxKeys: 4, noNullPrototype: true }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 5, noNullPrototype: true }), (doc) => {
        const yaml = toYaml(doc);
        assert.deepEqual(read11(yaml), doc, yaml);
        assert.deepEqual(read12(yaml), doc, yaml);
      }),
      { numRuns: 2000 },
    );
  });
});
