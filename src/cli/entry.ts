import { enableCompileCache } from "node:module";
import { installSignalHandlers } from "../ops/signals.ts";

// Signals are handled from the first line: a Ctrl-C while the CLI loads is not lost.
installSignalHandlers();
// Cache V8's compiled code of the bundle (in the OS temp dir) so a warm start skips parsing.
// It must be on before the CLI's code is loaded, hence the dynamic import.
enableCompileCache?.();
await import("./main.ts");
