// Page rights, fault handlers and copy-on-write (docs/MEMORY.md), each beside a comparison run in
// the same program: a fault serviced by the process's own handler against the same loop with no
// fault; a copy-on-write copy of 1 MiB (PROCESS_COPY_PAGES) against memory.copy of the same
// bytes, with and without writing every copied page afterwards, from a process; and the kernel's
// side of the same copies alone (the address space's copy-on-write against its bulk copy).
import { Op, PageRights } from "../src/kernel/caps/object-abi.ts";
import type { LoadedImage } from "../src/kernel/image.ts";
import { copyMemory } from "../src/kernel/memory-instructions.ts";
import type { TestMachine } from "../test/helpers/test-host.ts";
import { wat } from "../test/helpers/wat.ts";
import { dogma, median, microsPerCall, now, result, runProcess, type Result } from "./harness.ts";

const ROUNDS = 2000;
const COPIES = 100;
const PAGES = 256;
const FROM = 0x10_0000;
const TO = 0x20_0000;

const PROGRAM = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 48)
  (data (i32.const 0x1000) "handler")
  (func $op (param $label i32) (param $n i32) (param $a i32) (param $b i32) (param $c i32) (param $d i32) (param $caps i32) (result i32)
    (i32.store (i32.const 0x2000) (local.get $label))
    (i32.store (i32.const 0x2004) (local.get $n))
    (i32.store (i32.const 0x2008) (local.get $caps))
    (i32.store (i32.const 0x200c) (i32.const 0))
    (i32.store (i32.const 0x2010) (i32.const 0))
    (i32.store (i32.const 0x2014) (local.get $a))
    (i32.store (i32.const 0x2018) (local.get $b))
    (i32.store (i32.const 0x201c) (local.get $c))
    (i32.store (i32.const 0x2020) (local.get $d))
    (call $invoke (i32.const 1) (i32.const 0x2000) (i32.const 64)))
  (func $protect (param $address i32) (param $rights i32)
    (if (call $op (i32.const ${Op.PROCESS_PROTECT}) (i32.const 3) (local.get $address) (i32.const 1) (local.get $rights) (i32.const 0) (i32.const 0))
      (then unreachable)))
  (func (export "handler") (param $kind i32) (param $addr i32) (param $top i32) (result i32)
    (call $protect (i32.and (local.get $addr) (i32.const 0xfffff000)) (i32.const ${PageRights.READ_WRITE}))
    (i32.const 0))
  ;; Each round: make the page unreadable, then load from it (a fault when $fault, else the page
  ;; is made readable again first, by the same kernel call the handler makes).
  (func (export "faults") (param $rounds i32) (param $fault i32) (result i32) (local $sum i32)
    (if (call $op (i32.const ${Op.PROCESS_SET_FAULT_HANDLER}) (i32.const 4) (i32.const 0x1000) (i32.const 7) (i32.const 0) (i32.const 0) (i32.const 0))
      (then unreachable))
    (i32.store (i32.const 0x5000) (i32.const 1))
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $rounds)))
      (call $protect (i32.const 0x5000) (i32.const ${PageRights.NONE}))
      (if (i32.eqz (local.get $fault)) (then (call $protect (i32.const 0x5000) (i32.const ${PageRights.READ_WRITE}))))
      (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 0x5000))))
      (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
      (br $next)))
    (local.get $sum))
  ;; Copies 1 MiB $copies times, copy-on-write or with memory.copy; then writes one word in every
  ;; copied page when $touch.
  (func (export "copies") (param $copies i32) (param $cow i32) (param $touch i32) (result i32) (local $i i32)
    (memory.fill (i32.const ${FROM}) (i32.const 7) (i32.const ${PAGES * 4096}))
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $copies)))
      (if (local.get $cow)
        (then (if (call $op (i32.const ${Op.PROCESS_COPY_PAGES}) (i32.const 3) (i32.const ${FROM}) (i32.const ${TO}) (i32.const ${PAGES}) (i32.const 1) (i32.const 1))
          (then unreachable)))
        (else (memory.copy (i32.const ${TO}) (i32.const ${FROM}) (i32.const ${PAGES * 4096}))))
      (if (local.get $touch) (then
        (local.set $i (i32.const 0))
        (block $written (loop $page
          (br_if $written (i32.ge_u (local.get $i) (i32.const ${PAGES})))
          (i32.store (i32.add (i32.const ${TO}) (i32.shl (local.get $i) (i32.const 12))) (local.get $i))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $page)))))
      (local.set $copies (i32.sub (local.get $copies) (i32.const 1)))
      (br $next)))
    (i32.load8_u (i32.const ${TO + 4096 + 5})))
  (func (export "_start")))`);

export async function memoryFaults(): Promise<Result[]> {
  const machine = dogma(64);
  const image = await machine.loader.load(PROGRAM, "memory-faults");
  const timed = async (entry: string, args: number[], per: number): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = now();
      await runProcess(machine, image, entry, args);
      samples.push(((now() - start) * 1000) / per);
    }
    return median(samples);
  };
  await timed("faults", [10, 1], 10); // warm-up
  const faulted = await timed("faults", [ROUNDS, 1], ROUNDS);
  const unfaulted = await timed("faults", [ROUNDS, 0], ROUNDS);
  const kernelSide = kernelCopies(machine, image);
  const cow = await timed("copies", [COPIES, 1, 0], COPIES);
  const copy = await timed("copies", [COPIES, 0, 0], COPIES);
  const cowTouched = await timed("copies", [COPIES, 1, 1], COPIES);
  const copyTouched = await timed("copies", [COPIES, 0, 1], COPIES);
  return [
    result("fault handler round: protect none, load faults, handler protects read-write, load retried", faulted, "µs", "same round, no fault (protect read-write before the load)", unfaulted),
    result("copy 1 MiB copy-on-write from a process (PROCESS_COPY_PAGES, 256 pages)", cow, "µs", "memory.copy of 1 MiB", copy),
    result("copy 1 MiB copy-on-write from a process, then write every page (256 splits)", cowTouched, "µs", "memory.copy of 1 MiB, then the same writes", copyTouched),
    result("kernel alone: copy-on-write of 256 pages (AddressSpace.copyOnWriteFrom)", kernelSide.cow, "µs", "kernel alone: bulk copy of 1 MiB (the memory.copy slow path)", kernelSide.copy),
    result("kernel alone: copy-on-write of 256 pages, then a write to each (256 splits)", kernelSide.cowTouched, "µs", "kernel alone: bulk copy of 1 MiB, then the same writes", kernelSide.copyTouched),
  ];
}

/** The kernel's work for the same copies, called directly on a process that never runs (warmed, median of 5 batches). */
function kernelCopies(machine: TestMachine, image: LoadedImage) {
  const kernel = machine.kernel;
  const process = kernel.spawn(image, { entry: "_start" });
  const space = process.space;
  const memory = kernel.machine.memory;
  space.write(FROM, new Uint8Array(PAGES * 4096).fill(7));
  const touch = () => {
    for (let i = 0; i < PAGES; i++) space.write(TO + i * 4096, new Uint8Array([i]));
  };
  const measure = (work: () => void): number => microsPerCall(work, 50);
  const cowCopy = () => {
    if (space.copyOnWriteFrom(space, FROM, TO, PAGES) !== 0) throw new Error("bench bug: copy-on-write refused");
  };
  const bulkCopy = () => copyMemory(space, memory, TO, FROM, PAGES * 4096);
  const figures = {
    cow: measure(cowCopy),
    copy: measure(bulkCopy),
    cowTouched: measure(() => (cowCopy(), touch())),
    copyTouched: measure(() => (bulkCopy(), touch())),
  };
  kernel.kill(process.pid);
  return figures;
}
