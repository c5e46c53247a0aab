// Layers only point down (docs/architecture.md): a module may import from its own layer or a
// lower one, never from a higher one. `make lint` runs this over src/.
//   cli → ops, audit → plan → config → workloads → kube, cloudinit → manifests, util, log
// Within a layer: ops may use audit (the observer, the audit row); audit never uses ops.
const LAYERS = [
  ["cli"],
  ["ops", "audit"],
  ["plan"],
  ["config"],
  ["workloads"],
  ["kube", "cloudinit"],
  // The root modules (errors.ts, build-info.ts) are as low as util.
  ["manifests", "util", "log", "(errors|build-info)\\.ts"],
];

const path = (names) => `^src/(${names.join("|")})(/|$)`;

const layerRules = LAYERS.flatMap((layer, i) =>
  i === 0
    ? []
    : [
        {
          name: `up-from-${layer.map((l) => l.replace(/[^a-z-].*/, "")).join("-")}`,
          comment: `${layer.join("/")} may not import a higher layer (${LAYERS.slice(0, i).flat().join(", ")})`,
          severity: "error",
          from: { path: path(layer) },
          to: { path: path(LAYERS.slice(0, i).flat()) },
        },
      ],
);

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...layerRules,
    {
      name: "audit-not-ops",
      comment: "audit is used by ops (observer, audit row) and must not use ops itself",
      severity: "error",
      from: { path: "^src/audit/" },
      to: { path: "^src/ops/" },
    },
    {
      name: "no-circular",
      comment: "modules that import each other (directly or around a loop)",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
  ],
  options: {
    parser: "swc",
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(\\.test\\.ts|/testing\\.ts)$" },
    moduleSystems: ["es6"],
    tsConfig: { fileName: "tsconfig.json" },
  },
};
