import { randomBytes } from "node:crypto";
import { encrypt, verify } from "unixcrypt";

/** crypt(3)'s salt alphabet; 64 characters, so a random byte masked to 6 bits picks one evenly. */
const SALT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** The longest salt SHA-512 crypt uses. */
const SALT_LENGTH = 16;
/** `$6$<salt>$<86 characters>`: what glibc, libxcrypt and cloud-init's hashed_passwd accept. */
export const SHA512_CRYPT = /^\$6\$[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/;

export function randomSalt(): string {
  const bytes = randomBytes(SALT_LENGTH);
  let salt = "";
  for (const b of bytes) salt += SALT_ALPHABET[b & 63];
  return salt;
}

/**
 * SHA-512 crypt (`$6$`, 5000 rounds: the glibc default, what `openssl passwd -6` and
 * `mkpasswd -m sha-512` produce) with a fresh random salt. The plain text never leaves the
 * process: only this hash is written to cloud-init's `hashed_passwd`.
 */
export function hashPassword(plain: string, salt = randomSalt()): string {
  return encrypt(plain, `$6$${salt}`);
}

export function passwordMatches(plain: string, hash: string): boolean {
  return verify(plain, hash);
}
