// A hostile program for test/programs/hostile-user.test.ts: run from the shell with its job's
// Memory (slot 7), it loads a 64-byte module that spins for ever (a loop storing to its memory)
// and starts processes of it in that Memory straight through the kernel (MEMORY_CREATE_PROCESS:
// procman's job limit does not apply) until the kernel refuses, then says how many and waits:
//   spawn-bomb: N spinners, then STATUS
// With an argument N it stops at N spinners.
import { print, args, errorName, sleep, Memory, Process, Region } from "../lib";

const JOB_MEMORY: i32 = 7;
// (module (memory 1) (func (export "_start") (loop (i32.store (i32.const 8192) (i32.add (i32.load (i32.const 8192)) (i32.const 1))) (br 0))))
const SPINNER: u8[] = [
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1, 7, 10, 1, 6, 95, 115, 116, 97, 114, 116, 0, 0, 10,
  27, 1, 25, 0, 3, 64, 65, 128, 192, 0, 65, 128, 192, 0, 40, 2, 0, 65, 1, 106, 54, 2, 0, 12, 0, 11, 0, 11,
];

const given = args();
const most: u32 = given.length > 1 ? <u32>parseInt(given[1]) : 100_000;
const memory = new Memory(JOB_MEMORY);
const regionCap = memory.createRegion(1);
if (regionCap < 0) {
  print("spawn-bomb: region " + errorName(regionCap));
} else {
  const region = new Region(regionCap);
  const at = <usize>region.info().address;
  for (let i = 0; i < SPINNER.length; i++) store<u8>(at + <usize>i, SPINNER[i]);
  const image = memory.createImage(regionCap, <u32>SPINNER.length, "spinner");
  if (image < 0) {
    print("spawn-bomb: image " + errorName(image) + " " + memory.loadError());
  } else {
    let spinners: u32 = 0;
    let status: i32 = 0;
    while (spinners < most) {
      const cap = memory.createProcess(image);
      if (cap < 0) {
        status = cap;
        break;
      }
      status = new Process(cap).start();
      if (status < 0) break;
      spinners++;
    }
    print("spawn-bomb: " + spinners.toString() + " spinners, then " + (status < 0 ? errorName(status) : "none refused"));
  }
}
for (;;) sleep(1_000_000_000);
