// Bundles the CLI into one ESM file (dist/virtwork.mjs). The Kubernetes client is only
// reached through dynamic import(), so esbuild splits it out of the start-up path.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { build } from "esbuild";

const require = createRequire(import.meta.url);

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

// `import … from "node:fs"` in an ESM bundle makes Node build an ES-module facade over every
// export of the builtin, which costs milliseconds at start-up. Each builtin is instead read
// with process.getBuiltinModule(), exporting only the names the bundle uses; the rarely
// needed child_process (commander's external sub-commands) is loaded on first use.
const builtinShim = {
  name: "builtin-shim",
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_]+(\/[a-z_]+)?$/ }, (args) => {
      const name = args.path.replace(/^node:/, "");
      if (!builtinModules.includes(name)) return undefined;
      // CommonJS dependencies expect the real module object (e.g. `events` is a class).
      if (args.kind === "require-call") return { path: args.path, external: true };
      return { path: name, namespace: "builtin-shim" };
    });
    b.onLoad({ filter: /.*/, namespace: "builtin-shim" }, (args) => {
      const names = Object.keys(require(args.path)).filter(
        (n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default",
      );
      const load = `process.getBuiltinModule(${JSON.stringify(`node:${args.path}`)})`;
      const lazy = args.path === "child_process";
      const lines = lazy
        ? [
            `let m; const get = () => (m ??= ${load});`,
            ...names.map((n) => `export function ${n}(...a) { return get().${n}(...a); }`),
            "export default new Proxy({}, { get: (_, k) => get()[k] });",
          ]
        : [
            `const m = ${load};`,
            ...names.map((n) => `export const ${n} = /* @__PURE__ */ (() => m.${n})();`),
            "export default m;",
          ];
      return { contents: lines.join("\n"), loader: "js" };
    });
  },
};

// Old chunks would pile up: each build starts from an empty dist/.
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });

await build({
  plugins: [builtinShim],
  entryPoints: { virtwork: "src/cli/entry.ts" },
  chunkNames: "chunks/[name]-[hash]",
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
