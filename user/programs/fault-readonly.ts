// Writes a byte into its own binary, mapped read-only: must fault as `read-only`.
import { print, imageBase } from "../lib";

const addr = imageBase();
store<u8>(addr, 0x42);
print("wrote to the read-only image at " + addr.toString());
