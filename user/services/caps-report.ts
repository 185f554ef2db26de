// Prints what init gave it: the kind of each slot from 2 until the first empty one, e.g.
//   caps-report: receiver memory device interrupt
// so that a test can check that a config line's grants arrive in order. Exits 0.
import { print, capKind, KIND_MEMORY, KIND_RECEIVER, KIND_DEVICE, KIND_INTERRUPT, KIND_REGION, KIND_CAPPAGE } from "../lib";

function kindName(kind: i32): string {
  if (kind == <i32>KIND_MEMORY) return "memory";
  if (kind == <i32>KIND_RECEIVER) return "receiver";
  if (kind == <i32>KIND_DEVICE) return "device";
  if (kind == <i32>KIND_INTERRUPT) return "interrupt";
  if (kind == <i32>KIND_REGION) return "region";
  if (kind == <i32>KIND_CAPPAGE) return "cappage";
  return "kind " + kind.toString();
}

let kinds = "";
for (let slot = 2; ; slot++) {
  const kind = capKind(slot);
  if (kind < 0) break;
  kinds += " " + kindName(kind);
}
print("caps-report:" + kinds);
