// Bundles the CLI into one ESM file (dist/virtwork.mjs). The Kubernetes client is only
// reached through dynamic import(), so esbuild splits it out of the start-up path.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
function git(...args) {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}
const commit = process.env.VIRTWORK_COMMIT || git("rev-parse", "--short=12", "HEAD") || "unknown";
const buildDate = process.env.SOURCE_DATE_EPOCH
  ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000).toISOString()
  : git("log", "-1", "--format=%cI") || "unknown";

await build({
  entryPoints: { virtwork: "src/cli/main.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22.12",
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  banner: {
    js: "import { createRequire as __virtworkCreateRequire } from 'node:module'; const require = __virtworkCreateRequire(import.meta.url);",
  },
  define: {
    __VIRTWORK_VERSION__: JSON.stringify(pkg.version),
    __VIRTWORK_COMMIT__: JSON.stringify(commit),
    __VIRTWORK_BUILD_DATE__: JSON.stringify(buildDate),
  },
});
