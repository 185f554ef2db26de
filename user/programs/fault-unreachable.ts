// Traps in a function named crash_here, so the fault record can be checked for its name.
import { print, getpid } from "../lib";

// Exported and holding a loop so that binaryen keeps it a function of its own: it inlines only
// tiny functions, functions with one unexported caller, and (at -O3) small loop-free ones.
export function crash_here(): void {
  let n = getpid();
  while (n > 1) n >>= 1;
  if (n >= 0) unreachable();
}

crash_here();
print("survived unreachable");
