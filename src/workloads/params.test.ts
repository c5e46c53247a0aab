import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkType, intRange, matches, resolveParams } from "./params.ts";
import { given } from "./testing.ts";
import type { ParamSpec } from "./types.ts";

const SCHEMA: ParamSpec[] = [
  { name: "count", type: "int", default: "3", description: "an int" },
  { name: "label", type: "string", default: "x", description: "a string" },
  { name: "flag", type: "bool", default: "false", description: "a bool" },
  { name: "items", type: "list", default: "a;b", description: "a list" },
  { name: "env", type: "dict", default: "A=1", description: "a dict" },
  { name: "percent", type: "int", default: "50", description: "bounded", check: intRange(0, 100) },
];

describe("param type rules", () => {
  it("string: anything non-empty", () => {
    assert.equal(checkType("string", "hello world"), undefined);
    assert.equal(checkType("string", "0"), undefined);
    assert.equal(checkType("string", ""), "must not be empty");
  });

  it("int: base-10 integers, negatives allowed, floats and words rejected", () => {
    for (const ok of ["0", "42", "-7", "+3", "007"]) assert.equal(checkType("int", ok), undefined, ok);
    for (const bad of ["1.5", "1.0", "1e3", "0x10", "ten", "", " 1", "1 ", "1_000", "--1"]) {
      assert.equal(checkType("int", bad), "must be an integer", JSON.stringify(bad));
    }
  });

  it("bool: true/false in any case; 0/1, yes/no are not bools", () => {
    for (const ok of ["true", "false", "TRUE", "False", "tRuE"])
      assert.equal(checkType("bool", ok), undefined, ok);
    for (const bad of ["0", "1", "yes", "no", "on", "t", "", "true "]) {
      assert.equal(checkType("bool", bad), 'must be "true" or "false"', JSON.stringify(bad));
    }
  });

  it("list: ;-separated with no empty items (so no trailing ; and no empty list)", () => {
    for (const ok of ["a", "a;b", "a b;c,d"]) assert.equal(checkType("list", ok), undefined, ok);
    for (const bad of ["", "a;", ";a", "a;;b", ";"]) {
      assert.match(checkType("list", bad) ?? "", /no empty items/, JSON.stringify(bad));
    }
  });

  it("dict: ;-separated key=value pairs, values may contain =", () => {
    for (const ok of ["a=1", "a=1;b=2", "opt=--flag=true", "k=", "a=b=c;d=e"]) {
      assert.equal(checkType("dict", ok), undefined, ok);
    }
    for (const bad of ["", "a", "a=1;b", "a=1;", ";a=1", "a=1;;b=2"]) {
      assert.match(checkType("dict", bad) ?? "", /key=value/, JSON.stringify(bad));
    }
  });
});

describe("resolveParams", () => {
  it("fills in every default when nothing is given", () => {
    const { params, problems } = resolveParams("w", SCHEMA, {});
    assert.deepEqual(problems, []);
    assert.deepEqual(params, {
      count: "3",
      label: "x",
      flag: "false",
      items: "a;b",
      env: "A=1",
      percent: "50",
    });
  });

  it("uses given values", () => {
    const { params, problems } = resolveParams("w", SCHEMA, given({ count: "-2", label: "y", flag: "TRUE" }));
    assert.deepEqual(problems, []);
    assert.equal(params.count, "-2");
    assert.equal(params.label, "y");
    assert.equal(params.flag, "TRUE");
  });

  it("refuses an empty value, naming the param and its default, instead of taking the default", () => {
    const { problems } = resolveParams("w", SCHEMA, given({ percent: "", label: "" }));
    assert.deepEqual(problems, [
      'test label: value "" is empty; give a value, or leave the param out for its default ("x")',
      'test percent: value "" is empty; give a value, or leave the param out for its default ("50")',
    ]);
  });

  it("rejects an unknown param with a did-you-mean and the list of known params", () => {
    const { problems } = resolveParams("w", SCHEMA, given({ cuont: "1" }));
    assert.deepEqual(problems, [
      'test cuont: unknown param "cuont" for workload "w" (did you mean "count"?); known params: count, label, flag, items, env, percent',
    ]);
  });

  it("offers no suggestion when nothing is close", () => {
    const { problems } = resolveParams("w", SCHEMA, given({ zzzzzzzz: "1" }));
    assert.equal(problems.length, 1);
    assert.doesNotMatch(problems[0] ?? "", /did you mean/);
    assert.match(problems[0] ?? "", /unknown param "zzzzzzzz" for workload "w"/);
  });

  it("says 'none' for a workload without params", () => {
    const { problems } = resolveParams("bare", [], given({ x: "1" }));
    assert.match(problems[0] ?? "", /known params: none$/);
  });

  it("reports every problem, each naming its source and quoting the value", () => {
    const { problems } = resolveParams(
      "w",
      SCHEMA,
      given({ count: "1.5", flag: "1", items: "a;", env: "a", percent: "101", nope: "x" }),
    );
    assert.equal(problems.length, 6);
    assert.ok(problems.includes('test count: value "1.5" must be an integer'));
    assert.ok(problems.includes('test flag: value "1" must be "true" or "false"'));
    assert.ok(problems.some((p) => p.startsWith('test items: value "a;"')));
    assert.ok(problems.some((p) => p.startsWith('test env: value "a"')));
    assert.ok(problems.includes('test percent: value "101" must be between 0 and 100'));
    assert.ok(problems.some((p) => p.startsWith('test nope: unknown param "nope"')));
  });

  it("checks the type before the extra rule", () => {
    const { problems } = resolveParams("w", SCHEMA, given({ percent: "abc" }));
    assert.deepEqual(problems, ['test percent: value "abc" must be an integer']);
  });

  it("never validates the defaults themselves", () => {
    const odd: ParamSpec[] = [{ name: "n", type: "int", default: "not-a-number", description: "" }];
    assert.deepEqual(resolveParams("w", odd, {}), { params: { n: "not-a-number" }, problems: [] });
  });
});

describe("extra rules", () => {
  it("intRange with and without an upper bound", () => {
    const bounded = intRange(1, 10);
    assert.equal(bounded("1"), undefined);
    assert.equal(bounded("10"), undefined);
    assert.equal(bounded("0"), "must be between 1 and 10");
    assert.equal(bounded("11"), "must be between 1 and 10");
    const open = intRange(5);
    assert.equal(open("5"), undefined);
    assert.equal(open("999999999"), undefined);
    assert.equal(open("4"), "must be at least 5");
  });

  it("matches returns the hint when the pattern fails", () => {
    const rule = matches(/^[a-z]+$/, "lower-case letters");
    assert.equal(rule("abc"), undefined);
    assert.equal(rule("ABC"), "must be lower-case letters");
  });
});
