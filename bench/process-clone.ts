// Cloning a process that has run (PROCESS_CLONE of a serving process between two messages,
// docs/MEMORY.md "Copy-on-write") beside starting a new process of the same image and copying the
// same memory into it: what fork-by-copy-on-write saves over fork-by-copy.
import { Receiver } from "../src/kernel/caps/receiver.ts";
import { Rights } from "../src/kernel/caps/object-abi.ts";
import { Op } from "../src/kernel/caps/object-abi.ts";
import type { Process } from "../src/kernel/process.ts";
import { wat } from "../test/helpers/wat.ts";
import { dogma, median, now, result, type Result } from "./harness.ts";

const SIZES = [256, 2048];
const BATCH = 50;

/** Writes `pages` pages, registers `handle` on its Receiver (slot 2) and returns: it then serves. */
const SERVER = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 160)
  (data (i32.const 0x1000) "handle")
  (func (export "run") (param $pages i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
      (i32.store (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.store (i32.const 0x3000) (i32.const ${Op.PROCESS_SERVE}))
    (i32.store (i32.const 0x3004) (i32.const 5))
    (i32.store (i32.const 0x3008) (i32.const 0))
    (i32.store (i32.const 0x3014) (i32.const 0x1000))
    (i32.store (i32.const 0x3018) (i32.const 6))
    (i32.store (i32.const 0x301c) (i32.const 2))
    (i32.store (i32.const 0x3020) (i32.const 0x2000))
    (i32.store (i32.const 0x3024) (i32.const 292))
    (drop (call $invoke (i32.const 1) (i32.const 0x3000) (i32.const 64))))
  (func (export "handle") (param i32) (result i32) (i32.const 0))
  (func (export "_start")))`);

export async function processClone(): Promise<Result[]> {
  const results: Result[] = [];
  for (const pages of SIZES) results.push(await cloneBeside(pages));
  return results;
}

async function cloneBeside(pages: number): Promise<Result> {
  const machine = dogma(64);
  const kernel = machine.kernel;
  const image = await machine.loader.load(SERVER, "server");
  const receiver = new Receiver(16);
  kernel.rootMemory.adopt(receiver, 1);
  const source = kernel.spawn(image, { entry: "run", entryArgs: [pages], caps: [kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
  await kernel.run(); // it writes its pages, registers and waits: quiescent
  if (!source.servingIdle) throw new Error("bench bug: the server is not waiting in its serve loop");
  const bytes = source.space.read(0x10000, pages * 4096);
  const clone = () => {
    const copy = kernel.cloneProcess(source, kernel.rootMemory, source);
    if (typeof copy === "number" || copy instanceof Promise) throw new Error(`bench bug: PROCESS_CLONE refused or waited: ${String(copy)}`);
    kernel.kill(copy.pid);
  };
  const copyIn = () => {
    const copy: Process = kernel.spawn(image, { entry: "_start" });
    copy.space.write(0x10000, bytes);
    kernel.kill(copy.pid);
  };
  const measure = (work: () => void): number => {
    for (let i = 0; i < BATCH; i++) work();
    const batches: number[] = [];
    for (let b = 0; b < 5; b++) {
      const start = now();
      for (let i = 0; i < BATCH; i++) work();
      batches.push(((now() - start) * 1000) / BATCH);
    }
    return median(batches);
  };
  const cloned = measure(clone);
  const copied = measure(copyIn);
  kernel.kill(source.pid);
  const mib = (pages * 4096) / (1 << 20);
  return result(`clone a serving process with ${mib} MiB written (PROCESS_CLONE: globals copied, pages copy-on-write)`, cloned, "µs", `a new process of the image, the same ${mib} MiB copied in`, copied);
}
