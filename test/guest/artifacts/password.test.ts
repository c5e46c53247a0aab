/**
 * The guest password as cloud-init gets it: only a salted SHA-512 crypt in `hashed_passwd`,
 * never the plain text, and a hash that the real tools (OpenSSL, Debian's mkpasswd from the
 * whois package) reproduce from the password and its salt, so PAM in the guest accepts it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { render, SSH_VARIANTS } from "./cases.ts";
import { needTools, runSync } from "./tools.ts";

const SSH_FIELDS = ["ssh-password", "ssh-user", "ssh-key"];
const withPassword = Object.entries(SSH_VARIANTS).filter(
  ([, flags]) => typeof flags["ssh-password"] === "string",
);

function hashedUser(userdata: string): Record<string, unknown> {
  const doc = parse(userdata, { version: "1.1" }) as { users: unknown[] };
  const user = doc.users.find((u): u is Record<string, unknown> => typeof u === "object" && u !== null);
  assert.ok(user, "a named user");
  return user;
}

/** `$6$<salt>$<hash>` → salt. */
const saltOf = (hash: string) => hash.split("$")[2] ?? "";

describe("SSH passwords reach the guest only as SHA-512 crypt", () => {
  test("the cases cover passwords that YAML or a shell would mangle", () => {
    assert.ok(withPassword.length >= 3, withPassword.map(([n]) => n).join(", "));
    for (const [, flags] of withPassword) assert.ok(Object.keys(flags).every((k) => SSH_FIELDS.includes(k)));
  });

  for (const [name, flags] of withPassword) {
    const password = flags["ssh-password"] as string;
    const [role] = render("cpu", {}, flags, { variant: "default", sshVariant: name });
    assert.ok(role);
    const hash = String(hashedUser(role.userdata).hashed_passwd);

    test(`${name}: hashed_passwd only, no plain text in the user-data`, () => {
      const user = hashedUser(role.userdata);
      assert.match(hash, /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
      assert.equal(user.plain_text_passwd, undefined);
      assert.equal(user.passwd, undefined);
      assert.equal(user.lock_passwd, false);
      const scalars: unknown[] = [];
      const walk = (v: unknown): void => {
        if (v && typeof v === "object") Object.values(v).forEach(walk);
        else scalars.push(v);
      };
      walk(parse(role.userdata, { version: "1.1" }));
      // A password may equal a value the user-data has anyway ("0755" is a file mode of the
      // readiness probe's helper): it is a leak only where the same run without a password
      // does not have that value.
      const same = (doc: unknown): number => {
        const out: unknown[] = [];
        const w = (v: unknown): void => {
          if (v && typeof v === "object") Object.values(v).forEach(w);
          else out.push(v);
        };
        w(doc);
        return out.filter((v) => String(v) === password).length;
      };
      const [plain] = render("cpu", {}, {}, { variant: "default", sshVariant: "no-ssh" });
      assert.ok(plain);
      assert.equal(
        scalars.filter((v) => String(v) === password).length,
        same(parse(plain.userdata, { version: "1.1" })),
        "no value is the password",
      );
      // Short ones ("no") occur in other words; longer ones must not occur at all.
      if (password.length >= 8) assert.ok(!role.userdata.includes(password), "nowhere in the text");
    });

    test(`${name}: openssl passwd -6 reproduces the hash`, { skip: needTools("openssl") }, () => {
      const r = runSync("openssl", ["passwd", "-6", "-salt", saltOf(hash), "-stdin"], { input: password });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), hash);
    });

    test(`${name}: mkpasswd -m sha-512 reproduces the hash`, { skip: needTools("mkpasswd") }, () => {
      const r = runSync("mkpasswd", ["-m", "sha-512", "-S", saltOf(hash), "--stdin"], { input: password });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), hash);
      const wrong = runSync("mkpasswd", ["-m", "sha-512", "-S", saltOf(hash), "--stdin"], {
        input: `${password}x`,
      });
      assert.notEqual(wrong.stdout.trim(), hash, "the check is not vacuous");
    });
  }
});
