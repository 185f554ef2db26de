// The host folder server's attached handles (docs/FS.md "Attached handles", docs/HOSTFS.md "Host
// folders") from a client's side (test/personality/folder-attach.test.ts), run as the program of
// `dogma run --dir FOLDER::.`: slot 2 its Memory, slot 3 the folder's root. ATTACH answers a
// handle and a view of a read buffer; READ and WRITE through it move no Region and read and write
// the same host file as the handle it was made from, which may be closed first; a read past the
// read buffer or a write past the client's buffer is E_INVALID_ARGUMENT; at most 16 attached
// handles are open at once (FS_E_TABLE_FULL), and one closed makes room; a closed handle's read
// buffer reads zeros. Prints "folderfs-check: ok: STEP" for each step and "folderfs-check: all
// passed", or "folderfs-check: FAIL: ..." and exits 1.
import { exit, print, eprint, capDrop, msgBegin, msgAddWord, msgInvoke, msgLabel, msgWord, msgCap, msgCapCount, E_INVALID_ARGUMENT } from "../lib";
import {
  FsClient, fsErrorName, fsStatus, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_ATTACH, FS_READ, FS_WRITE,
  FS_CLOSE, FS_E_TABLE_FULL,
} from "../lib/fs-client";

import { checkName, fail, expect, ok, passed } from "../lib/check-steps";

checkName("folderfs-check");
const MEMORY: i32 = 2;
const ROOT: i32 = 3;
const ATTACH_MAX: i32 = 16;
const fs = new FsClient(MEMORY, 16); // 64 KiB

/** A request of `label` with `words` on `cap`: the server's status. */
function raw(cap: i32, label: u32, words: u32[]): i32 {
  msgBegin(label);
  for (let i = 0; i < words.length; i++) msgAddWord(words[i]);
  ok("call " + label.toString(), msgInvoke(cap));
  return fsStatus(msgLabel());
}

function pattern(i: u32, seed: u32): u8 {
  return <u8>((i * 7 + seed) & 0xff);
}

function checkBytes(what: string, at: usize, length: u32, from: u32, seed: u32): void {
  for (let i: u32 = 0; i < length; i++) {
    if (load<u8>(at + <usize>i) != pattern(from + i, seed)) fail(what + " byte " + i.toString(), 0);
  }
}

ok("prepare", fs.prepare());
const rights = FS_RIGHT_READ | FS_RIGHT_WRITE;
const file = ok("open a", fs.open(ROOT, "a", rights | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
const attached = fs.attach(file);
if (attached < 0) fail("ATTACH on a file of the folder", attached);
passed("ATTACH answers a handle and the read buffer's view");

// ---- Through the attached handle -------------------------------------------------------------------
for (let i: u32 = 0; i < 12288; i++) store<u8>(fs.address + <usize>i, pattern(i, 1));
expect("WRITE 12 KiB through the attached handle", fs.write(attached, 0, 12288), 12288);
expect("READ 12 KiB through the attached handle", fs.read(attached, 0, 12288, 32768), 12288);
checkBytes("what the attached handle read", fs.address + 32768, 12288, 0, 1);
expect("READ left in the read buffer", fs.readView(attached, 4096, 8192), 8192);
checkBytes("the read buffer", fs.viewAddress, 8192, 4096, 1);
expect("READ through the plain handle", fs.read(file, 100, 4000, 49152), 4000);
checkBytes("what the plain handle read", fs.address + 49152, 4000, 100, 1);
passed("the attached handle writes from the client's buffer and reads into its read buffer, the same file as the plain one");

// ---- Bounds ------------------------------------------------------------------------------------------
expect("READ past the read buffer", raw(attached, FS_READ, [0, 0, 16 * 4096 + 1, 0]), E_INVALID_ARGUMENT);
expect("WRITE past the client's buffer", raw(attached, FS_WRITE, [0, 0, 4096, 16 * 4096 - 4095]), E_INVALID_ARGUMENT);
msgBegin(FS_WRITE);
msgAddWord(0);
msgAddWord(0);
msgAddWord(16);
const short = msgInvoke(attached);
if (short >= 0 && fsStatus(msgLabel()) >= 0) fail("WRITE with its offset word missing", fsStatus(msgLabel()));
passed("a read past the read buffer and a write past the client's buffer are refused");

// ---- The plain handle closed first -------------------------------------------------------------------
ok("close the plain handle", fs.close(file));
for (let i: u32 = 0; i < 4096; i++) store<u8>(fs.address + <usize>i, pattern(i, 2));
expect("WRITE through the attached handle after", fs.write(attached, 8192, 4096), 4096);
expect("READ through the attached handle after", fs.read(attached, 8192, 4096, 32768), 4096);
checkBytes("the attached handle's read after", fs.address + 32768, 4096, 0, 2);
ok("close the attached handle", fs.close(attached));
const again = ok("open a again", fs.open(ROOT, "a", FS_RIGHT_READ));
expect("the file's size", <i32>fs.size, 12288);
expect("read it back", fs.read(again, 0, 12288, 0), 12288);
checkBytes("its first 8 KiB", fs.address, 8192, 0, 1);
checkBytes("its last 4 KiB", fs.address + 8192, 4096, 0, 2);
passed("an attached handle keeps the host file open after the plain handle closes");

// ---- As many as the server keeps ---------------------------------------------------------------------
const handles = new Array<i32>();
const views = new Array<i32>();
const addresses = new Array<usize>();
for (let i = 0; i < ATTACH_MAX; i++) {
  msgBegin(FS_ATTACH);
  msgAddWord(1);
  ok("call ATTACH", msgInvoke(again));
  ok("ATTACH " + i.toString(), fsStatus(msgLabel()));
  if (msgCapCount() < 2) fail("ATTACH's capabilities", msgCapCount());
  handles.push(msgCap(0));
  views.push(msgCap(1));
  addresses.push(<usize>msgWord(2));
}
expect("one ATTACH more", raw(again, FS_ATTACH, [1]), FS_E_TABLE_FULL);
expect("READ into the first read buffer", raw(handles[0], FS_READ, [0, 0, 16, 0]), 0);
expect("its count", <i32>msgWord(0), 16);
checkBytes("the first read buffer, through its view", addresses[0], 16, 0, 1);
expect("close the first", raw(handles[0], FS_CLOSE, []), 0);
capDrop(handles[0]);
for (let i = 0; i < 16; i++) if (load<u8>(addresses[0] + <usize>i) != 0) fail("a closed handle's read buffer reads zeros", load<u8>(addresses[0] + <usize>i));
capDrop(views[0]);
expect("ATTACH once one closed", raw(again, FS_ATTACH, [1]), 0);
handles[0] = msgCap(0);
views[0] = msgCap(1);
for (let i = 0; i < ATTACH_MAX; i++) {
  expect("close attached " + i.toString(), raw(handles[i], FS_CLOSE, []), 0);
  capDrop(handles[i]);
  capDrop(views[i]);
}
ok("close a", fs.close(again));
passed("16 attached handles at most; one closed makes room, and its read buffer reads zeros");

print("folderfs-check: all passed");
exit(0);
