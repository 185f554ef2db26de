// Recurses without bound: must fault as `stack-exhausted`.
import { print } from "../lib";

// Not a tail call: the addition after the call keeps every frame alive.
function descend(depth: i32): i32 {
  return descend(depth + 1) + depth;
}

print("bottom at " + descend(0).toString());
