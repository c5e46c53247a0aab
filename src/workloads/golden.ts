/**
 * Golden images (images/golden/): a guest profile's boot image with every built-in
 * workload's packages and the guest agent pre-installed, so guests start their workloads
 * without reaching a package mirror. The package list of every recipe comes from here, and
 * so does what the plan leaves out of the user-data when `--golden-image` says the image is
 * one (design §4.9: workloads ask the profile; this asks it too).
 */
import type { GuestConfig } from "../cloudinit/guest-config.ts";
import { DEFAULT_IMAGES, type GuestOsName, type GuestProfile } from "./guest.ts";

/**
 * Beyond the workloads' tools: the guest agent, cloud-init, and where the profile ships
 * sch_netem separately from the kernel (its `netemModules` step installs it at boot), that
 * package. Ubuntu's is named after the kernel version, so its recipe installs it
 * (images/golden/ubuntu/build.sh).
 */
const GOLDEN_EXTRAS: Readonly<Record<GuestOsName, readonly string[]>> = {
  fedora: ["qemu-guest-agent", "cloud-init", "kernel-modules-extra"],
  "centos-stream": ["qemu-guest-agent", "cloud-init", "kernel-modules-extra"],
  ubuntu: ["qemu-guest-agent", "cloud-init"],
  debian: ["qemu-guest-agent", "cloud-init"],
};

/** Every package the workloads of `profile` install, in profile order, without repeats. */
export function workloadPackages(profile: GuestProfile): string[] {
  return [...new Set(Object.values(profile.packages).flat())];
}

/** What a golden image of `profile` holds: the workloads' packages, the agent and cloud-init. */
export function goldenPackages(profile: GuestProfile): string[] {
  return [...new Set([...workloadPackages(profile), ...GOLDEN_EXTRAS[profile.name]])];
}

/**
 * The profile a golden image boots as: no install steps at boot (sch_netem's package is in
 * the image).
 */
export function goldenProfile(profile: GuestProfile): GuestProfile {
  const { netemModules: _, ...rest } = profile;
  return rest;
}

/**
 * A workload's guest config for a golden image of `profile`: the packages the image holds are
 * not installed again, so a built-in workload's user-data has no `packages:` at all (cloud-init
 * then runs no package manager, needs no mirror) and only writes and starts its units. A
 * package the image does not hold (a catalog workload's own) is kept.
 */
export function forGoldenImage(guest: GuestConfig, profile: GuestProfile): GuestConfig {
  const held = new Set(goldenPackages(profile));
  return { ...guest, packages: guest.packages.filter((p) => !held.has(p)) };
}

/** One of the stock containerdisks virtwork boots by default, which hold no workload packages. */
export function isStockImage(image: string): boolean {
  return (Object.values(DEFAULT_IMAGES) as string[]).includes(image);
}
