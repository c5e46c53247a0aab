import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findPlaceholders, substitute } from "./placeholders.ts";

describe("catalog placeholders", () => {
  it("finds {{key}} with its line, also with spaces inside the braces", () => {
    assert.deepEqual(findPlaceholders("a {{x}}\nb {{ y-z }} {{x}}\n"), [
      { key: "x", line: 1, quoted: false },
      { key: "y-z", line: 2, quoted: false },
      { key: "x", line: 2, quoted: false },
    ]);
  });

  it("ignores brace text that is not a placeholder (Go templates, empty braces)", () => {
    assert.deepEqual(findPlaceholders("docker ps --format '{{.ID}}' {{}} {{ }} {x} {{a b}}"), []);
  });

  it("substitutes every occurrence by exact key", () => {
    assert.equal(
      substitute("-t {{n}} -n {{n}} -x {{ m }}", { n: "4", m: "set,get" }),
      "-t 4 -n 4 -x set,get",
    );
  });

  it("escapes % so systemd does not expand specifiers", () => {
    assert.equal(substitute("--load {{p}}", { p: "50%" }), "--load 50%%");
  });

  it("leaves unknown placeholders verbatim and never reads inherited properties", () => {
    assert.equal(substitute("{{toString}} {{x}}", { x: "1" }), "{{toString}} 1");
  });

  it("a value that contains a placeholder is not substituted again", () => {
    assert.equal(substitute("{{a}} {{b}}", { a: "{{b}}", b: "2" }), "{{b}} 2");
  });
});
