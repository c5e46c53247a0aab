/** `scheme://user:password@` anywhere in a text: the password is what must never be echoed. */
const URL_CREDENTIALS = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]*)@/g;

/**
 * The text with the password of every URL in it masked (`postgres://app:***@db/x`), for
 * anything that echoes user input: error lines, warnings, logs.
 */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}
