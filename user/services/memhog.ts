// A workload larger than the machine, for the paging tests (test/services/paging.test.ts): it
// takes the number of 4 KiB pages its first argument says, writes every word of every page with
// a value that depends on where it is, then reads them all back, twice over, and says whether
// every one was right. On a machine with less memory than that, the pages go to the pager and
// come back sealed; a wrong byte shows as a mismatch, and a lying pager ends it with a fault.
// Config: service hog memhog memory=PAGES+64 -- PAGES
import { args, print, exit } from "../lib";
import { growPages } from "../lib/pages";

const argv = args();
const pages = argv.length > 1 ? u32.parse(argv[1]) : 1024;
const base = growPages(<usize>pages << 12);
const value = (i: u32): u32 => i * 2654435761 + 12345;
for (let p: u32 = 0; p < pages; p++) {
  const page = base + (<usize>p << 12);
  for (let w: u32 = 0; w < 1024; w += 16) store<u32>(page + (<usize>w << 2), value(p * 1024 + w));
}
let wrong: u32 = 0;
for (let round = 0; round < 2; round++) {
  for (let p: u32 = 0; p < pages; p++) {
    const page = base + (<usize>p << 12);
    for (let w: u32 = 0; w < 1024; w += 16) if (load<u32>(page + (<usize>w << 2)) != value(p * 1024 + w)) wrong++;
  }
}
print("memhog: " + pages.toString() + " pages written and read back twice: " + (wrong == 0 ? "all right" : wrong.toString() + " words wrong"));
exit(wrong == 0 ? 0 : 1);
