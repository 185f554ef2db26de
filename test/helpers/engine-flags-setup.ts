// vitest's setupFiles: each test worker runs with the V8 flags the Node host sets
// (src/hosts/node/engine-flags.ts), before any test compiles a module.
import { applyEngineFlags } from "../../src/hosts/node/engine-flags.ts";

applyEngineFlags();
