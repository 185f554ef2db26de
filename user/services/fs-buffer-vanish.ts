// An attacker of the file system's attached handles, for test/fs/buffer-vanish.test.ts: it
// attaches its buffer (a view the server keeps and reads WRITE's bytes from), then makes the buffer
// go while the server keeps the view, and writes through the attached handle.
//   -- destroy: the buffer is a Region of a Memory of its own, which it destroys;
//   -- free:    the buffer is REGION_ZERO_ON_FREE and it frees it (the server pays for the range it
//               keeps reserved, or, its quota full, loses the view);
// then says how the write went, what the file got and whether the server still answers.
// Config: service v fs-buffer-vanish use=fs memory=256 -- destroy
import { exit, eprint, print, arg, errorName, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgCap, msgLabel, msgWord, Memory, Region, CAP_MOVE, REGION_ZERO_ON_FREE } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_ATTACH, FS_WRITE } from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const PAGES: u32 = 16;

function check(what: string, status: i32): i32 {
  if (status < 0) {
    eprint("fs-buffer-vanish: FAIL: " + what + ": " + fsErrorName(status));
    exit(1);
  }
  return status;
}

const how = arg(1);
const fs = new FsClient(MEMORY, 1);
const root = check("root", fsRoot(SHARED, 0));
const file = check("open v", fs.open(root, "v", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE));
const home = new Memory(MEMORY);
const own = how == "destroy" ? new Memory(check("a Memory of its own", home.createMemory(64))) : home;
const buffer = new Region(check("the buffer", own.createRegion(PAGES, how == "free" ? REGION_ZERO_ON_FREE : 0)));
const at = <usize>buffer.info().address;
memory.fill(at, 0x5a, PAGES * 4096);
const view = check("a view", buffer.view());
msgBegin(FS_ATTACH);
msgAddWord(PAGES);
msgAddCap(<u32>view | CAP_MOVE);
check("attach", msgInvoke(file));
const attached = msgCap(0);
if (how == "destroy") check("destroy its Memory", own.destroy());
else check("free the buffer", buffer.free());
msgBegin(FS_WRITE);
msgAddWord(0);
msgAddWord(0);
msgAddWord(4096);
msgAddWord(0);
const written = msgInvoke(attached);
print("fs-buffer-vanish: write: " + (written < 0 ? errorName(written) : msgLabel() != 0 ? fsErrorName(-<i32>msgLabel()) : msgWord(0).toString() + " bytes"));
// What the file got: the buffer as its owner left it (destroy: its bytes; free: zeros).
const got = check("read back", fs.read(file, 0, 4096));
let pattern = 0;
let zeros = 0;
for (let i = 0; i < got; i++) {
  const byte = load<u8>(fs.address + i);
  if (byte == 0x5a) pattern++;
  else if (byte == 0) zeros++;
}
print("fs-buffer-vanish: the file holds " + (pattern == 4096 ? "the buffer's bytes" : zeros == 4096 ? "zeros" : "other bytes"));
const again = fs.open(root, "v", FS_RIGHT_READ);
print("fs-buffer-vanish: the server " + (again >= 0 ? "still answers" : "answers " + fsErrorName(again)));
exit(0);
