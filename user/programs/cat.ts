// Copies console input to output until end of input.
import { read, writeBytes, eprint, errorName, exit, STDOUT } from "../lib";

const SIZE: i32 = 4096;
const buf = memory.data(SIZE);

while (true) {
  const n = read(buf, SIZE);
  if (n == 0) break;
  if (n < 0) {
    eprint("cat: read: " + errorName(n));
    exit(1);
  }
  const w = writeBytes(STDOUT, buf, <usize>n);
  if (w < 0) {
    eprint("cat: write: " + errorName(w));
    exit(1);
  }
}
