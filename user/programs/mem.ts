// mem: physical frames (free, the kernel's, objects', processes'), every Memory's quota and use,
// and paging (KERNEL_FRAMES, KERNEL_MEMORY and KERNEL_PAGING_INFO, relayed by the process
// manager). Pages are 4 KiB frames.
import {
  print, eprint, statusText, exit, readKernelFrames, readKernelMemory, KernelFrames, KernelMemory, OP_KERNEL_FRAMES,
  OP_KERNEL_MEMORY, OP_KERNEL_PAGING_INFO, msgWord,
} from "../lib";
import { procForTool, procInspect } from "../lib/proc-client";
import { Options } from "../lib/options";
import { args } from "../lib";

function pad(s: string, width: i32): string {
  return s.length >= width ? s : " ".repeat(width - s.length) + s;
}

function fail(status: i32): void {
  eprint("mem: " + statusText(status));
  exit(1);
}

const options = new Options("mem", "", "Shows the machine memory: frames in use and free, and each Memory's quota and use.").parse(args());
if (options.operands.length > 0) options.usageError("unexpected operand '" + options.operands[0] + "'");
const proc = procForTool();
if (proc < 0) fail(proc);
let status = procInspect(proc, OP_KERNEL_FRAMES);
if (status < 0) fail(status);
const f = new KernelFrames();
readKernelFrames(f);
print(
  "frames " + f.frames.toString() + " (" + (f.frames / 256).toString() + " MiB): " + f.free.toString() + " free, " + f.kernel.toString() +
    " kernel, " + f.objects.toString() + " pages and regions, " + f.processes.toString() + " process pages",
);
print("MEMORY PARENT      QUOTA       USED PROCS");
const m = new KernelMemory();
let id: u32 = 0;
for (;;) {
  status = procInspect(proc, OP_KERNEL_MEMORY, id);
  if (status < 0) fail(status);
  readKernelMemory(m);
  if (m.id == 0) break;
  print(pad(m.id.toString(), 6) + " " + pad(m.parent.toString(), 6) + " " + pad(m.quota.toString(), 10) + " " + pad(m.used.toString(), 10) + " " + pad(m.processes.toString(), 5));
  id = m.id + 1;
}
// Paging: whether the kernel pages, by which policy, and how much went out and came back.
status = procInspect(proc, OP_KERNEL_PAGING_INFO);
if (status < 0) fail(status);
if (msgWord(0) == 0) print("paging: off (no pager)");
else {
  print(
    "paging: by " + (msgWord(1) == 0 ? "clock" : "aging") + ", " + msgWord(2).toString() + " pages evicted, " + msgWord(3).toString() + " paged back in, " +
      msgWord(4).toString() + " of " + msgWord(5).toString() + " pages of the store in use, " + msgWord(6).toString() + " refused",
  );
}
exit(0);
