// Where a loader worker thread starts (loader-workers.ts), in plain JavaScript so that Node need
// not strip types to run it: it turns on the compile cache the main thread uses (bin/dogma.js)
// before the loader's TypeScript is loaded. A worker without it strips and compiles the loader
// afresh, loading Node's type stripper into its isolate: 45-69 MB resident for two workers
// against 16-27 with it (52 against 20 MB still held after they end).
import { enableCompileCache } from "node:module";
import { workerData } from "node:worker_threads";

if (typeof workerData?.compileCache === "string") enableCompileCache(workerData.compileCache);
await import("./loader-worker.ts");
