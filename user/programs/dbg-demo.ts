// dbg-demo [N]: adds up the squares of 1..N (default 4), each also kept in a cell of a small table,
// and exits with the total's low byte. The program dbg's tutorial and tests debug (docs/DEBUGGING.md).
import { print, args, exit } from "../lib";

/** The table of squares: a static address, which the program prints for `watch` and `x`. */
const cells: usize = memory.data(64, 16);
let total: i32 = 0;
let calls: i32 = 0;

/** n squared, by adding n n times (a loop: it has safe points to stop at), kept in cell n. */
function addSquare(n: i32): i32 {
  calls++;
  let square = 0;
  for (let i = 0; i < n; i++) square += n;
  store<i32>(cells + (<usize>(n & 15) << 2), square);
  total += square;
  return square;
}

/** The same for a negative n: its square, as the total's part. */
function addNegativeSquare(n: i32): i32 {
  return addSquare(-n);
}

const argv = args();
const n = argv.length > 1 ? i32.parse(argv[1]) : 4;
print("dbg-demo: cells at 0x" + cells.toString(16));
// Chosen at run time and called through the table: the optimizer cannot fold addSquare into the
// loop, so it stays a function of its own, with its name, to break on.
const add: (n: i32) => i32 = n >= 0 ? addSquare : addNegativeSquare;
for (let i = 1; i <= abs(n); i++) add(n >= 0 ? i : -i);
print("dbg-demo: total " + total.toString() + " in " + calls.toString() + " calls");
exit(total & 0xff);
