// Run by isolation.test.ts in a worker thread, because what it checks can hang the thread it runs
// on: a process spins in a function the rewriter may have left without safe points, and a second
// process must still get the CPU. Posts "refused" (the loader refused the module), "ran" (the
// second process ran to its end), or nothing at all (the kernel never got the CPU back).
import { parentPort } from "node:worker_threads";
import { LoadError } from "../../src/loader/load-error.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../fuzz/wat.ts";

const t = testMachine({ memory: 2 << 20 });
try {
  const spin = await t.loader.load(wat(`(module (func $dogma$spin (loop $forever (br $forever))) (func (export "_start") (call $dogma$spin)))`), "spin");
  const other = await t.loader.load(wat(`(module (func (export "_start") (result i32) (i32.const 7)))`), "other");
  parentPort!.postMessage("loaded");
  const spinner = t.kernel.spawn(spin, { mapImage: false });
  const second = t.kernel.spawn(other, { mapImage: false });
  void second.wait().then(() => {
    parentPort!.postMessage("ran");
    t.kernel.kill(spinner.pid);
  });
  await t.kernel.run();
} catch (error) {
  parentPort!.postMessage(error instanceof LoadError ? "refused" : `error: ${String(error)}`);
}
