// dogma:runtime incremental
// Allocates far more than its memory would hold if nothing were freed: the garbage-collected
// runtime works under Dogma (the shell depends on it).
import { print } from "../lib";

let kept = "";
let total: u64 = 0;
for (let i = 0; i < 200_000; i++) {
  const s = "line " + i.toString() + " of garbage that the collector must take back";
  total += <u64>s.length;
  if (i % 50_000 == 0) kept += s.slice(0, 6);
}
print("gc-check: " + total.toString() + " characters allocated; kept " + kept);
