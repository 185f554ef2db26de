// Reads a u32 from page 0, which Dogma never maps: must fault as `null-page`.
// The address comes from the arguments (default 0) so the optimizer cannot see it.
import { print, args } from "../lib";

const argv = args();
const addr: usize = argv.length > 1 ? <usize>u32.parse(argv[1]) : 0;
print("read " + load<u32>(addr).toString() + " at " + addr.toString());
