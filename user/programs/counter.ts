// Prints "counter N" for N in 0..limit-1 (limit: first argument, default 5), yielding between lines.
import { print, args, yield_ } from "../lib";

const argv = args();
const limit = argv.length > 1 ? i32.parse(argv[1]) : 5;
for (let n = 0; n < limit; n++) {
  if (n > 0) yield_();
  print("counter " + n.toString());
}
