import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toJsonList, toYamlDocuments, writeJsonList, writeYamlDocuments } from "./output.ts";

const objects = [
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "a", labels: { x: "1" } },
    stringData: { "u.yaml": "a\nb" },
  },
  {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: "b" },
    spec: { list: [1, { k: [] }], e: {} },
  },
  { kind: "Service", metadata: { name: "c" } },
];

function written(
  fn: (objs: readonly unknown[], write: (t: string) => void) => void,
  objs: readonly unknown[],
) {
  const parts: string[] = [];
  fn(objs, (t) => parts.push(t));
  return { text: parts.join(""), parts: parts.length };
}

describe("streamed output is the same text, written object by object", () => {
  it("JSON List", () => {
    for (const objs of [objects, objects.slice(0, 1), []]) {
      const { text, parts } = written(writeJsonList, objs);
      assert.equal(text, toJsonList(objs));
      JSON.parse(text);
      if (objs.length > 1) assert.ok(parts > objs.length, "one write per object at least");
    }
  });

  it("YAML documents", () => {
    for (const objs of [objects, objects.slice(0, 1), []]) {
      const { text, parts } = written(writeYamlDocuments, objs);
      assert.equal(text, toYamlDocuments(objs));
      assert.equal(parts, objs.length);
    }
  });
});
