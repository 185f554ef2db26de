// Lists what the file system installed on first boot (test/fs): for each file of /bin a line
// "fs-install-check: /bin/NAME SIZE FNV1A" (the 32-bit FNV-1a hash of its bytes), then the
// lines of /etc/init.conf as "fs-install-check: etc: LINE", then "fs-install-check: done".
// Given a directory (`-- /lost+found`), it lists that one's files (not its directories or links)
// the same way instead.
// Config: `service ls fs-install-check use=fs memory=512`.
import { args, exit, eprint, lineBegin, lineAdd, lineAddBytes, lineAddU32, linePrint } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_OPEN_DIRECTORY, FS_KIND_FILE, direntName, direntNameLength, direntNext,
  direntKind,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 256);
const names: usize = memory.data(64 * 256);
const lengths = new StaticArray<u32>(64);

function ok(what: string, got: i32): i32 {
  if (got < 0) {
    eprint("fs-install-check: FAIL: " + what + ": " + fsErrorName(got));
    exit(1);
  }
  return got;
}

ok("buffer", fs.prepare());
const root = ok("root", fsRoot(SHARED, 1));
const argv = args();
const listed = argv.length > 1 ? argv[1] : "/bin";
const bin = ok("open " + listed, fs.open(root, listed, FS_RIGHT_READ | FS_OPEN_DIRECTORY));
let count = 0;
let cookie: u32 = 0;
for (;;) {
  const n = ok("readdir", fs.readdir(bin, cookie));
  if (n == 0) break;
  let at = fs.address;
  for (let i = 0; i < n && count < 64; i++) {
    if (direntKind(at) == FS_KIND_FILE) {
      memory.copy(names + <usize>(count * 256), direntName(at), direntNameLength(at));
      unchecked((lengths[count++] = direntNameLength(at)));
    }
    at = direntNext(at);
  }
  cookie = fs.cookie;
}
for (let k = 0; k < count; k++) {
  const name = String.UTF8.decodeUnsafe(names + <usize>(k * 256), unchecked(lengths[k]));
  const file = ok("open " + name, fs.open(bin, name, FS_RIGHT_READ));
  const size = <u32>fs.size;
  let hash: u32 = 0x811c9dc5;
  for (let done: u32 = 0; done < size; ) {
    const n = <u32>ok("read", fs.read(file, <u64>done, min(size - done, fs.bufferBytes)));
    if (n == 0) break;
    for (let i: u32 = 0; i < n; i++) hash = (hash ^ <u32>load<u8>(fs.address + i)) * 16777619;
    done += n;
  }
  fs.close(file);
  lineBegin("fs-install-check: ");
  lineAdd(listed);
  lineAdd("/");
  lineAdd(name);
  lineAdd(" ");
  lineAddU32(size);
  lineAdd(" ");
  lineAddU32(hash);
  linePrint();
}
if (argv.length > 1) {
  lineBegin("fs-install-check: done");
  linePrint();
  exit(0);
}
const conf = ok("open /etc/init.conf", fs.open(root, "etc/init.conf", FS_RIGHT_READ));
const size = <u32>fs.size;
ok("read it", fs.read(conf, 0, size));
let start: u32 = 0;
for (let i: u32 = 0; i <= size; i++) {
  if (i < size && load<u8>(fs.address + i) != 0x0a) continue;
  if (i > start) {
    lineBegin("fs-install-check: etc: ");
    lineAddBytes(fs.address + start, i - start);
    linePrint();
  }
  start = i + 1;
}
lineBegin("fs-install-check: done");
linePrint();
exit(0);
