import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../../errors.ts";
import { verifySettings } from "./settings.ts";

const settings = (flags: Record<string, unknown>) => verifySettings({ flags, env: {}, timeoutSeconds: 600 });
const refused = (flags: Record<string, unknown>, re: RegExp) =>
  assert.throws(
    () => settings(flags),
    (err: unknown) => err instanceof UsageError && re.test(err.message),
  );

test("--for / --since with --step and --max-gap (issue 27)", () => {
  assert.deepEqual(settings({ for: "1h" }).soak, {
    mode: "for",
    seconds: 3600,
    stepSeconds: 30,
    maxGapSeconds: 60,
  });
  assert.deepEqual(settings({ since: "10m", step: "15s", "max-gap": "2m" }).soak, {
    mode: "since",
    seconds: 600,
    stepSeconds: 15,
    maxGapSeconds: 120,
  });
  assert.equal(settings({}).soak, undefined);
  refused({ for: "1h", since: "1h" }, /--for and --since: give one/);
  refused({ for: "ten minutes" }, /^--for: must be seconds or a duration such as 90s/);
  refused({ step: "10s" }, /--step and --max-gap go with --for or --since/);
  refused({ for: "40s", step: "30s" }, /--step: 30s leaves fewer than 2 points in a 40s window/);
});
