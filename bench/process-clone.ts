// Cloning a process that has run (PROCESS_CLONE of a serving process between two messages,
// docs/MEMORY.md "Copy-on-write") beside starting a new process of the same image and copying the
// same memory into it: what fork-by-copy-on-write saves over fork-by-copy.
import { Receiver } from "../src/kernel/caps/receiver.ts";
import { Rights } from "../src/kernel/caps/object-abi.ts";
import type { Process } from "../src/kernel/process.ts";
import { counterServer } from "../test/helpers/counter-server.ts";
import { dogma, microsPerCall, result, type Result } from "./harness.ts";

const SIZES = [256, 2048];
const BATCH = 50;

/** The server: it writes `pages` pages, registers its handler and returns, and then serves. */
const SERVER = counterServer({ memoryPages: 160 });

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
  const cloned = microsPerCall(clone, BATCH);
  const copied = microsPerCall(copyIn, BATCH);
  kernel.kill(source.pid);
  const mib = (pages * 4096) / (1 << 20);
  return result(`clone a serving process with ${mib} MiB written (PROCESS_CLONE: globals copied, pages copy-on-write)`, cloned, "µs", `a new process of the image, the same ${mib} MiB copied in`, copied);
}
