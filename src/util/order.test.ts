import assert from "node:assert/strict";
import { test } from "node:test";
import { compareNames } from "./order.ts";

test("numbered names sort by number (issue 31: cpu-0, -1, -10, … -2 was string order)", () => {
  const names = [
    "virtwork-cpu-10",
    "virtwork-cpu-2",
    "virtwork-cpu-0",
    "virtwork-cpu-1",
    "virtwork-disk-0",
    "virtwork-cpu-11",
  ];
  assert.deepEqual(names.sort(compareNames), [
    "virtwork-cpu-0",
    "virtwork-cpu-1",
    "virtwork-cpu-2",
    "virtwork-cpu-10",
    "virtwork-cpu-11",
    "virtwork-disk-0",
  ]);
  assert.deepEqual(["a-02", "a-2", "a-1b", "a-1"].sort(compareNames), ["a-1", "a-1b", "a-2", "a-02"]);
  assert.equal(compareNames("x", "x"), 0);
});
