// Replaced by esbuild at build time (scripts/build.mjs); unbundled runs report dev values.
declare const __VIRTWORK_VERSION__: string | undefined;
declare const __VIRTWORK_COMMIT__: string | undefined;
declare const __VIRTWORK_BUILD_DATE__: string | undefined;

export const buildInfo = {
  version: typeof __VIRTWORK_VERSION__ === "string" ? __VIRTWORK_VERSION__ : "(dev)",
  commit: typeof __VIRTWORK_COMMIT__ === "string" ? __VIRTWORK_COMMIT__ : "(unknown)",
  buildDate: typeof __VIRTWORK_BUILD_DATE__ === "string" ? __VIRTWORK_BUILD_DATE__ : "(unknown)",
};
