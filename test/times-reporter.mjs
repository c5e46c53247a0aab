// A node:test reporter for `make test`'s budget table: one JSON line per top-level test of
// each file ({file, name, ms, ok}), written next to the spec reporter's output
// (--test-reporter=./test/times-reporter.mjs --test-reporter-destination=FILE).
// scripts/test-budget.mjs sums the lines per file.
import { relative } from "node:path";

export default async function* times(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { data } = event;
    if (data.nesting !== 0 || !data.file || data.details?.duration_ms === undefined) continue;
    const line = {
      file: relative(process.cwd(), data.file),
      name: data.name,
      ms: Math.round(data.details.duration_ms),
      ok: event.type === "test:pass",
    };
    yield `${JSON.stringify(line)}\n`;
  }
}
