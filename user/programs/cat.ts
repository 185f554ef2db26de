// cat [FILE...]: copies each file (from the working directory), or standard input when there is
// none, to standard output.
import { args, read, writeBytes, eprint, errorName, exit, STDOUT } from "../lib";
import { FS_RIGHT_READ } from "../lib/fs-client";
import { base, within, client, complain, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const SIZE: i32 = 4096;
const buf = memory.data(SIZE);

function out(ptr: usize, n: usize): void {
  const w = writeBytes(STDOUT, ptr, n);
  if (w < 0) {
    eprint("cat: write: " + errorName(w));
    exit(1);
  }
}

const argv = args();
if (argv.length < 2) {
  for (;;) {
    const n = read(buf, SIZE);
    if (n == 0) break;
    if (n < 0) {
      eprint("cat: read: " + errorName(n));
      exit(1);
    }
    out(buf, <usize>n);
  }
  exit(0);
}
workingDirectory("cat");
const fs = client();
let failed = false;
for (let i = 1; i < argv.length; i++) {
  const file = fs.open(base(argv[i]), within(argv[i]), FS_RIGHT_READ);
  if (file < 0) {
    complain("cat", visible(argv[i]), file);
    failed = true;
    continue;
  }
  let offset: u64 = 0;
  for (;;) {
    const n = fs.read(file, offset, 65536);
    if (n < 0) {
      complain("cat", visible(argv[i]), n);
      failed = true;
      break;
    }
    if (n == 0) break;
    out(fs.address, <usize>n);
    offset += <u64>n;
  }
  fs.close(file);
}
exit(failed ? 1 : 0);
