// Page rights, a fault handler and copy-on-write through libdogma: a store to a page made
// read-only and a load from a page made unreadable each run the handler `onFault`, which makes
// the page read-write again, and the access completes; then a page copied copy-on-write reads the
// same, and a write to the copy leaves the original as it was. Prints what it saw.
import { print, exit, growPages, Process, PAGE_RIGHTS_NONE, PAGE_RIGHTS_READ, PAGE_RIGHTS_READ_WRITE } from "../lib";

const PAGE: u32 = 4096;
// Made before the pages are grown: nothing may allocate while they are in use (lib/pages.ts).
const self = Process.self();

let faults: u32 = 0;
let kinds: u32 = 0;
let lastAddress: u32 = 0;

/** The fault handler: records the fault, makes its page read-write again, and resumes (0). */
export function onFault(kind: i32, address: u32, stackTop: u32): i32 {
  faults++;
  kinds = (kinds << 8) | <u32>kind;
  lastAddress = address;
  return self.protect(address & ~(PAGE - 1), 1, PAGE_RIGHTS_READ_WRITE) == 0 ? 0 : 1;
}

const registered = self.setFaultHandler("onFault");
const base = <u32>growPages(4 * PAGE);

store<u32>(base, 42);
const readOnly = self.protect(base, 1, PAGE_RIGHTS_READ);
store<u32>(base + 8, 7);
const afterStore = load<u32>(base + 8);
const storeAddress = lastAddress;

store<u32>(base + PAGE, 5);
const unreadable = self.protect(base + PAGE, 1, PAGE_RIGHTS_NONE);
const afterLoad = load<u32>(base + PAGE);

store<u32>(base + 2 * PAGE, 1234);
const copied = self.copyPages(self, base + 2 * PAGE, base + 3 * PAGE, 1);
const copy = load<u32>(base + 3 * PAGE);
store<u32>(base + 3 * PAGE, 99);
const original = load<u32>(base + 2 * PAGE);
const written = load<u32>(base + 3 * PAGE);

print("statuses " + registered.toString() + " " + readOnly.toString() + " " + unreadable.toString() + " " + copied.toString());
print("faults " + faults.toString() + " kinds " + kinds.toString(16) + " store at +" + (storeAddress - base).toString());
print("values " + afterStore.toString() + " " + afterLoad.toString());
print("copy " + copy.toString() + " original " + original.toString() + " written " + written.toString());
exit(0);
