// A driver that touches memory it was not given, for the fault-tolerance tests: the kernel must
// tear it down with a fault record and everything else must keep running. What it does depends
// on what its config line grants it:
//   driver wild-registers wild-driver device=timer   # slot 3 a device: it maps the register
//                                                    # page, then stores a byte to it (only
//                                                    # aligned 32-bit stores reach a device)
//   driver wild-pointer   wild-driver                # nothing: it writes to a global address
//                                                    # no capability of its maps
// Either way it prints what it is about to do first, and it never gets past that.
import { print, exit, capKind, Device, KIND_DEVICE } from "../lib";

const DEVICE: i32 = 3;
/** The top of the global space: no Page, Region or Image it could hold is mapped there. */
const NOWHERE: usize = 0xfffff000;

if (capKind(DEVICE) == <i32>KIND_DEVICE) {
  const mapped = new Device(DEVICE).map();
  if (mapped < 0) exit(1);
  const registers = <usize>mapped;
  print("wild-driver: register page at 0x" + (<u32>registers).toString(16) + ", magic 0x" + load<u32>(registers).toString(16) + "; storing a byte to it");
  store<u8>(registers, 0xff); // a fault: device registers take aligned 32-bit stores only
} else {
  print("wild-driver: writing to 0x" + (<u32>NOWHERE).toString(16) + ", which nothing gave it");
  store<u32>(NOWHERE, 0xdeadbeef);
}
print("wild-driver: FAILED: still running after the wild store");
exit(0);
