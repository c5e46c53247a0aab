/**
 * The injection cases of issue 15: values that would have landed verbatim in a catalog
 * unit's `ExecStart=/bin/bash -c '…'`. Shared by the unit tests and the guest-artifact tests.
 */
/** The twelve cases of the issue: command substitution, quote breaking, separators, … */
export const INJECTIONS: readonly [string, string][] = [
  ["command substitution", "$(reboot)"],
  ["single quote that closes the script", "set'; reboot; '"],
  ["a plain apostrophe", "it's"],
  ["backticks", "`reboot`"],
  ["a newline that starts a new unit setting", "set\nExecStartPost=/sbin/reboot"],
  ["semicolon", "set;reboot"],
  ["and-and", "set&&reboot"],
  ["pipe", "set|reboot"],
  ["redirection", "set>/etc/passwd"],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text ${IFS} is the case
  ["IFS word splitting", "set${IFS}reboot"],
  ["double quote", 'set"x'],
  ["a space and an option", "set -h evil"],
];
