/**
 * Every user-data document passes `cloud-init schema`, and PyYAML (what cloud-init reads it
 * with) sees exactly the strings, lists and booleans virtwork meant.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { allRendered, type RenderedRole } from "./cases.ts";
import { mapLimit, needTools, run, runSync, tempDir } from "./tools.ts";

const rendered = allRendered();
/** Distinct documents: SSH-less variants often render the same text. */
const documents = [...new Map(rendered.map((r) => [r.userdata, r])).values()];

describe("cloud-init schema accepts every user-data document", { skip: needTools("cloud-init") }, () => {
  const dir = tempDir("cloud-init");
  after(() => dir.remove());

  test(`${documents.length} distinct documents from ${rendered.length} renderings`, async () => {
    const failures: string[] = [];
    await mapLimit([...documents.entries()], 4, async ([i, r]) => {
      const file = join(dir.path, `user-data-${i}.yaml`);
      writeFileSync(file, r.userdata);
      const res = await run("cloud-init", ["schema", "--config-file", file]);
      const out = `${res.stdout}${res.stderr}`;
      if (res.code !== 0 || !/Valid cloud-config/.test(out) || /deprecat|warn|error/i.test(out)) {
        failures.push(`${r.id}: exit ${res.code}\n${out}`);
      }
    });
    assert.deepEqual(failures, []);
  });

  test("the check is not vacuous: a document with an octal-number permission is rejected", async () => {
    const file = join(dir.path, "bad.yaml");
    writeFileSync(
      file,
      "#cloud-config\nwrite_files:\n  - path: /x\n    content: hi\n    permissions: 0755\n",
    );
    const res = await run("cloud-init", ["schema", "--config-file", file]);
    assert.notEqual(res.code, 0);
    assert.match(`${res.stdout}${res.stderr}`, /permissions: 493 is not of type 'string'/);
  });
});

/** Interpreters that can import PyYAML: the one on PATH and the system one cloud-init uses. */
function pythonsWithYaml(): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      const r = runSync(py, ["-c", "import sys, yaml; print(sys.executable, yaml.__version__)"]);
      if (r.code === 0 && !seen.has(r.stdout.trim())) {
        seen.add(r.stdout.trim());
        found.push(py);
      }
    } catch {
      // not installed
    }
  }
  return found;
}

// Loads each document with yaml.safe_load and prints it as JSON: a string that PyYAML took
// for a bool, int, float or null shows up as that JSON type; dates and the like are tagged.
const LOAD_ALL = `
import json, sys, yaml
docs = json.load(sys.stdin)
def enc(o):
    return {"$python": type(o).__name__, "repr": repr(o)}
print(json.dumps([yaml.safe_load(d) for d in docs], default=enc))
`;

function intended(r: RenderedRole) {
  return {
    packages: [...new Set(r.guest.packages)],
    write_files: r.guest.files.map((f) => ({ path: f.path, content: f.content, permissions: f.permissions })),
    runcmd: r.guest.runcmd,
  };
}

const pythons = pythonsWithYaml();
describe("PyYAML reads every document to the intended values", {
  skip: pythons.length ? false : "needs python3 with PyYAML (python3 -c 'import yaml' fails here)",
}, () => {
  for (const py of pythons) {
    test(`${py}: packages, files, permissions, runcmd and users stay what virtwork meant`, () => {
      const res = runSync(py, ["-c", LOAD_ALL], { input: JSON.stringify(rendered.map((r) => r.userdata)) });
      assert.equal(res.code, 0, res.stderr);
      const loaded = JSON.parse(res.stdout) as Record<string, unknown>[];
      for (const [i, r] of rendered.entries()) {
        const doc = loaded[i] ?? {};
        const want = intended(r);
        assert.deepEqual(doc.packages, want.packages, `${r.id}: packages`);
        assert.deepEqual(doc.write_files, want.write_files, `${r.id}: write_files`);
        assert.deepEqual(doc.runcmd, want.runcmd, `${r.id}: runcmd`);
        if (!r.ssh) {
          assert.equal(doc.users, undefined, `${r.id}: no users block without SSH credentials`);
          continue;
        }
        const users = doc.users as unknown[];
        assert.ok(Array.isArray(users), `${r.id}: users is a list`);
        const user = users.find(
          (u): u is Record<string, unknown> => typeof u === "object" && u !== null && "name" in u,
        );
        assert.ok(user, `${r.id}: a named user`);
        assert.equal(user.name, r.ssh.user, `${r.id}: user name`);
        if (r.ssh.passwordHash !== undefined) {
          assert.equal(user.hashed_passwd, r.ssh.passwordHash, `${r.id}: password hash`);
          assert.equal(user.plain_text_passwd, undefined, `${r.id}: no plain text password`);
          assert.equal(user.lock_passwd, false, `${r.id}: lock_passwd`);
          assert.equal(doc.ssh_pwauth, true, `${r.id}: ssh_pwauth`);
        } else {
          assert.equal(user.lock_passwd, true, `${r.id}: lock_passwd`);
        }
        if (r.ssh.authorizedKeys.length) {
          assert.deepEqual(user.ssh_authorized_keys, r.ssh.authorizedKeys, `${r.id}: keys`);
        }
      }
    });
  }
});
