// Isolation probe: sums `count` u32 words from `start` (arguments; hex with 0x) and prints the sum.
// Tests point it at memory it was not given, and expect a fault instead of a sum.
import { print, eprint, args, exit } from "../lib";

const argv = args();
if (argv.length < 3) {
  eprint("usage: snoop START COUNT");
  exit(2);
}
const start = <usize>u32.parse(argv[1]);
const count = u32.parse(argv[2]);
let sum: u32 = 0;
for (let i: u32 = 0; i < count; i++) sum += load<u32>(start + (<usize>i << 2));
print(sum.toString());
