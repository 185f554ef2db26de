// An attacker of the file system with a filler narrowed to RIGHT_REGION_FILL (CAP_COPY), for
// test/fs/buffer-vanish.test.ts. Such a capability maps nothing where it is held, so a server that
// reads a WRITE's bytes from it touches an address it does not have mapped.
//   -- attach: the narrowed filler is the buffer of an attached handle, then a WRITE through it;
//   -- region: the narrowed filler is the Region of a plain WRITE.
// Then says how the write went and whether the server still answers.
// Config: service v fs-fill-only use=fs memory=256 -- attach
import { exit, eprint, print, arg, errorName, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgCap, msgLabel, msgWord, capCopy, Memory, Region, CAP_MOVE, RIGHT_REGION_FILL } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_ATTACH, FS_WRITE } from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const PAGES: u32 = 4;

function check(what: string, status: i32): i32 {
  if (status < 0) {
    eprint("fs-fill-only: FAIL: " + what + ": " + fsErrorName(status));
    exit(1);
  }
  return status;
}

function outcome(status: i32): string {
  return status < 0 ? errorName(status) : msgLabel() != 0 ? fsErrorName(-<i32>msgLabel()) : msgWord(0).toString() + " bytes";
}

const how = arg(1);
const fs = new FsClient(MEMORY, 1);
const root = check("root", fsRoot(SHARED, 0));
const file = check("open v", fs.open(root, "v", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE));
const buffer = new Region(check("the buffer", new Memory(MEMORY).createRegion(PAGES, 0)));
memory.fill(<usize>buffer.info().address, 0x5a, PAGES * 4096);
const filler = check("a filler", buffer.filler());
const fillOnly = check("the filler narrowed", capCopy(filler, RIGHT_REGION_FILL));
if (how == "attach") {
  msgBegin(FS_ATTACH);
  msgAddWord(PAGES);
  msgAddCap(<u32>fillOnly | CAP_MOVE);
  const attachedStatus = msgInvoke(file);
  print("fs-fill-only: attach: " + (attachedStatus < 0 ? errorName(attachedStatus) : msgLabel() != 0 ? fsErrorName(-<i32>msgLabel()) : "done"));
  if (attachedStatus >= 0 && msgLabel() == 0) {
    const attached = msgCap(0);
    msgBegin(FS_WRITE);
    msgAddWord(0);
    msgAddWord(0);
    msgAddWord(4096);
    msgAddWord(0);
    print("fs-fill-only: write: " + outcome(msgInvoke(attached)));
  }
} else {
  msgBegin(FS_WRITE);
  msgAddWord(0);
  msgAddWord(0);
  msgAddWord(4096);
  msgAddWord(0);
  msgAddCap(<u32>fillOnly | CAP_MOVE);
  print("fs-fill-only: write: " + outcome(msgInvoke(file)));
}
const again = fs.open(root, "v", FS_RIGHT_READ);
print("fs-fill-only: the server " + (again >= 0 ? "still answers" : "answers " + fsErrorName(again)));
exit(0);
