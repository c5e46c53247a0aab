/**
 * The guest password works for a real login and nothing in between holds it in plain text
 * (issue 15). The case that carries it (cases.ts `login: true`) is rendered with
 * `--ssh-user vwtester` and a password given through VIRTWORK_SSH_PASSWORD, so the user-data
 * its guest boots (a `hashed_passwd` only) is what virtwork renders for that run. Then,
 * through the guest agent:
 *
 * - /etc/shadow holds exactly the hash virtwork sent, and no file cloud-init wrote holds the
 *   password;
 * - PAM: an unprivileged user runs `su vwtester` on a pseudo-terminal and types the password
 *   (pam_unix checks it against the hash); a wrong password is refused;
 * - sshd: `ssh vwtester@127.0.0.1` with password authentication only (the password from an
 *   SSH_ASKPASS helper, no sshpass needed) logs in; a wrong password is refused.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import type { Vm } from "./qemu.ts";

export const LOGIN_USER = "vwtester";
/** Spaces, quotes, `#` and `$`: whatever escaping goes wrong shows. */
export const LOGIN_PASSWORD = "Vw login 9f3#Zq'\"$x";
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** Drives `su USER -c 'id -un'` on a pty as `nobody`, typing the password from argv[1] (base64). */
const SU_ON_A_PTY = `
import base64, os, pty, sys
password = base64.b64decode(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp("su", ["su", "${LOGIN_USER}", "-c", "id -un"])
out, sent = b"", False
while True:
    try:
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and b"assword" in out:
        os.write(fd, password + b"\\n")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;

/**
 * The hash in the rendered user-data (parsed, not grepped), after checking that the Secret
 * holding it has no plain text and no `plain_text_passwd`.
 */
export function renderedHash(userData: string, secretJson: string): string {
  assert.ok(userData.startsWith("#cloud-config"));
  const user = (parse(userData, { version: "1.1" }) as { users: unknown[] }).users.find(
    (u): u is Record<string, unknown> => typeof u === "object" && u !== null,
  );
  assert.equal(user?.name, LOGIN_USER);
  assert.equal(user?.plain_text_passwd, undefined);
  assert.ok(!secretJson.includes(LOGIN_PASSWORD), "the Secret holds no plain text");
  assert.match(String(user?.hashed_passwd), /^\$6\$/, "a SHA-512 crypt hash");
  return String(user?.hashed_passwd);
}

async function must(vm: Vm, script: string): Promise<string> {
  const r = await vm.agent.sh(script);
  if (r.code !== 0) throw new Error(`guest: ${script}\nexit ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

function suLogin(vm: Vm, password: string) {
  return vm.agent.sh(
    `printf %s ${b64(SU_ON_A_PTY)} | base64 -d > /tmp/su-pty.py && chmod 644 /tmp/su-pty.py && runuser -u nobody -- timeout 60 python3 /tmp/su-pty.py ${b64(password)}`,
    90_000,
  );
}

function sshLogin(vm: Vm, password: string) {
  const askpass = `#!/bin/sh\nprintf '%s\\n' "$(printf %s ${b64(password)} | base64 -d)"\n`;
  return vm.agent.sh(
    [
      `printf %s ${b64(askpass)} | base64 -d > /tmp/askpass && chmod 755 /tmp/askpass`,
      `SSH_ASKPASS=/tmp/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=none timeout 60 setsid -w ssh -n -o BatchMode=no -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PreferredAuthentications=password,keyboard-interactive -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 ${LOGIN_USER}@127.0.0.1 id -un`,
    ].join(" && "),
    90_000,
  );
}

/**
 * In a guest booted from user-data rendered with the password (cloud-init done): shadow,
 * no plain-text copy, su and ssh with the right password and refusal of a wrong one.
 * `until` waits (scaled by pace) for sshd to listen.
 */
export async function checkLogin(
  vm: Vm,
  hash: string,
  until: <T>(what: string, seconds: number, fn: () => Promise<T | undefined>) => Promise<T>,
  log: (m: string) => void,
): Promise<void> {
  assert.equal(
    await must(vm, `getent shadow ${LOGIN_USER} | cut -d: -f2`),
    hash,
    "shadow has the hash virtwork sent",
  );
  const copies = await must(
    vm,
    `grep -rlF -- "$(printf %s ${b64(LOGIN_PASSWORD)} | base64 -d)" /var/lib/cloud /etc/shadow /etc/passwd /var/log/cloud-init*.log 2>/dev/null || true`,
  );
  assert.equal(copies, "", "no file cloud-init wrote holds the plain text");

  const su = await suLogin(vm, LOGIN_PASSWORD);
  assert.equal(su.code, 0, `su with the password: ${su.stdout}${su.stderr}`);
  assert.match(su.stdout, new RegExp(`^${LOGIN_USER}\\r?$`, "m"));
  const suWrong = await suLogin(vm, `${LOGIN_PASSWORD}-wrong`);
  assert.notEqual(suWrong.code, 0, "su refuses a wrong password");
  assert.doesNotMatch(suWrong.stdout, new RegExp(`^${LOGIN_USER}\\r?$`, "m"));

  await until("sshd to listen", 120, async () => {
    const r = await vm.agent.sh("ss -ltn | grep -q ':22 '");
    return r.code === 0 ? true : undefined;
  });
  const ssh = await sshLogin(vm, LOGIN_PASSWORD);
  assert.equal(ssh.code, 0, `ssh with the password: ${ssh.stdout}${ssh.stderr}`);
  assert.equal(ssh.stdout.trim(), LOGIN_USER);
  const sshWrong = await sshLogin(vm, `${LOGIN_PASSWORD}-wrong`);
  assert.notEqual(sshWrong.code, 0, "sshd refuses a wrong password");
  log(`login: shadow holds virtwork's hash; su and ssh accept the password and refuse a wrong one`);
}
