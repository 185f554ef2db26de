// Reads past the end of its memory: must fault as `out-of-bounds` (or `unmapped`).
import { print } from "../lib";

const addr: usize = (<usize>memory.size() << 16) + 16;
print("read " + load<u32>(addr).toString() + " at " + addr.toString());
