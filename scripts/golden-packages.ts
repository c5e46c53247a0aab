/**
 * The packages a golden image of a guest profile holds, one a line, from the profiles in
 * src/workloads/ (the one place that says what each workload installs): what every recipe
 * under images/golden/ installs.
 *
 *   node --experimental-strip-types scripts/golden-packages.ts <debian|ubuntu|fedora|centos-stream>
 *
 * Unknown profile: one line naming it and the choices, exit 2.
 */
import { goldenPackages } from "../src/workloads/golden.ts";
import { GUEST_OS_NAMES, type GuestOsName, guestProfile } from "../src/workloads/guest.ts";

const name = process.argv[2] ?? "";
if (!(GUEST_OS_NAMES as readonly string[]).includes(name)) {
  process.stderr.write(
    `golden-packages: profile "${name}" is unknown; give one of ${GUEST_OS_NAMES.join(", ")}\n`,
  );
  process.exit(2);
}
process.stdout.write(`${goldenPackages(guestProfile(name as GuestOsName)).join("\n")}\n`);
