// The host share server's protocol from a client's side (test/fs/hostfs.test.ts): the file system
// server's protocol, read-only. Every request that would change the share answers
// E_MISSING_RIGHT; ".." above a handle FS_E_ESCAPE; a symlink out of the share FS_E_ESCAPE; bad
// requests their statuses, and the server keeps serving. The share must hold a.txt ("hello from
// the host\n"), sub/b.txt, big.txt (100 000 bytes of "0123456789"), and out (a symlink to a file
// outside it). Prints "hostfs-check: ok: STEP" for each step and "hostfs-check: all passed", or
// "hostfs-check: FAIL: ..." and exits 1. Config: `service check hostfs-check use=host memory=512`
// (slot 3 the Cappage, 4 a Memory).
import {
  exit, print, eprint, capCopy, msgBegin, msgAddWord, msgInvoke, msgLabel, msgWord, registryLookup,
  E_MISSING_RIGHT, E_INVALID_ARGUMENT, E_BAD_MESSAGE, E_CONTRACT, STREAM_READ, STREAM_WRITE,
} from "../lib";
import {
  FsClient, fsRoot, fsErrorName, fsStatus, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_RIGHT_APPEND, FS_RIGHTS_ALL,
  FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_OPEN_DIRECTORY, FS_KIND_FILE, FS_KIND_DIR, FS_READ, FS_READDIR,
  FS_E_NOT_FOUND, FS_E_NOT_DIR, FS_E_IS_DIR, FS_E_NAME, FS_E_STALE, FS_E_ESCAPE, direntName, direntNameLength,
  direntNext, direntKind,
} from "../lib/fs-client";

import { checkName, fail, expect, ok, passed } from "../lib/check-steps";

checkName("hostfs-check");
const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 64); // 256 KiB
const scratch: usize = memory.data(512);

function readString(file: i32, offset: u64, length: u32): string {
  const n = ok("read inline", fs.readInline(file, offset, scratch, length));
  return String.UTF8.decodeUnsafe(scratch, <usize>n);
}

/** Calls `cap` with `label` and `words`: the reply's status. */
function raw(cap: i32, label: u32, words: u32[]): i32 {
  msgBegin(label);
  for (let i = 0; i < words.length; i++) msgAddWord(words[i]);
  ok("call " + label.toString(), msgInvoke(cap));
  return fsStatus(msgLabel());
}

// ---- The capabilities ---------------------------------------------------------------------------
ok("prepare", fs.prepare());
const root = ok("the root from the Cappage", fsRoot(SHARED, 0));
ok("the second root", fsRoot(SHARED, 1));
const service = ok("look host up", registryLookup("host"));
ok("FS_INFO on the service capability", fs.info(service));
expect("OPEN on the service capability", fs.open(service, "a.txt", FS_RIGHT_READ), E_MISSING_RIGHT);
ok("stat the root", fs.stat(root));
expect("the root is a directory", <i32>fs.kind, <i32>FS_KIND_DIR);
expect("the root's rights", <i32>fs.rights, <i32>FS_RIGHT_READ);
passed("the registry's capability answers FS_INFO only; the root is a read-only directory");

// ---- Reading --------------------------------------------------------------------------------------
const a = ok("open a.txt", fs.open(root, "a.txt", FS_RIGHT_READ));
expect("a.txt is a file", <i32>fs.kind, <i32>FS_KIND_FILE);
expect("a.txt's size", <i32>fs.size, 20);
if (readString(a, 0, 240) != "hello from the host\n") fail("read a.txt inline", 0);
if (readString(a, 6, 4) != "from") fail("read a.txt from 6", 0);
expect("read at the end", fs.readInline(a, 20, scratch, 10), 0);
expect("read a.txt into the Region", fs.read(a, 0, 4096), 20);
if (String.UTF8.decodeUnsafe(fs.address, 20) != "hello from the host\n") fail("the Region's bytes", 0);
const big = ok("open big.txt", fs.open(root, "/big.txt", FS_RIGHT_READ));
expect("big.txt's size", <i32>fs.size, 100000);
expect("read big.txt whole (two device reads and a bit)", fs.read(big, 0, 200000), 100000);
for (let i = 0; i < 100000; i++) {
  if (load<u8>(fs.address + <usize>i) != <u8>(0x30 + i % 10)) fail("big.txt byte " + i.toString(), 0);
}
expect("read big.txt from 99 995", fs.read(big, 99995, 100), 5);
// Stream READ: from the handle's position.
expect("stream READ", raw(a, STREAM_READ, [5]), 0);
expect("stream READ's count", <i32>msgWord(0), 5);
expect("stream READ's bytes", <i32>msgWord(1), 0x6c6c6568); // "hell"
expect("stream READ again", raw(a, STREAM_READ, [252]), 0);
expect("stream READ's count from the position", <i32>msgWord(0), 15);
expect("stream READ at the end", raw(a, STREAM_READ, [10]), 0);
expect("stream READ's count at the end", <i32>msgWord(0), 0);
const b = ok("open sub/b.txt", fs.open(root, "sub/./b.txt", FS_RIGHT_READ));
if (readString(b, 0, 100) != "bee\n") fail("read sub/b.txt", 0);
passed("files read inline, into a Region (64 KiB at a time from the device), and as a stream");

// ---- Directories -----------------------------------------------------------------------------------
const names = new Array<string>();
let cookie: u32 = 0;
for (;;) {
  const n = ok("readdir", fs.readdir(root, cookie));
  if (n == 0) break;
  let at = fs.address;
  for (let i = 0; i < n; i++) {
    const name = String.UTF8.decodeUnsafe(direntName(at), direntNameLength(at));
    names.push(name + (direntKind(at) == FS_KIND_DIR ? "/" : direntKind(at) == FS_KIND_FILE ? "" : "?"));
    at = direntNext(at);
  }
  cookie = fs.cookie;
}
if (names.join(" ") != "a.txt big.txt out? sub/") fail("readdir gave " + names.join(" "), 0);
const sub = ok("open sub", fs.open(root, "sub", FS_RIGHT_READ | FS_OPEN_DIRECTORY));
expect("readdir sub", fs.readdir(sub, 0), 1);
const top = ok("sub/.. is the root", fs.open(root, "sub/..", FS_RIGHT_READ));
expect("... a directory", <i32>fs.kind, <i32>FS_KIND_DIR);
expect("readdir on a file", fs.readdir(a, 0), FS_E_NOT_DIR);
expect("read a directory", fs.read(sub, 0, 10), FS_E_IS_DIR);
expect("open a file as a directory", fs.open(root, "a.txt", FS_RIGHT_READ | FS_OPEN_DIRECTORY), FS_E_NOT_DIR);
expect("open under a file", fs.open(root, "a.txt/x", FS_RIGHT_READ), FS_E_NOT_DIR);
expect("open under a file handle", fs.open(a, "x", FS_RIGHT_READ), FS_E_NOT_DIR);
expect("a missing file", fs.open(root, "missing.txt", FS_RIGHT_READ), FS_E_NOT_FOUND);
expect("a missing directory", fs.open(root, "nowhere/x", FS_RIGHT_READ), FS_E_NOT_FOUND);
passed("directories list, open, and refuse file requests");

// ---- Nothing leaves the share ---------------------------------------------------------------------
expect(".. above the root", fs.open(root, "..", FS_RIGHT_READ), FS_E_ESCAPE);
expect("/../a.txt", fs.open(root, "/../a.txt", FS_RIGHT_READ), FS_E_ESCAPE);
expect(".. above sub", fs.open(sub, "../a.txt", FS_RIGHT_READ), FS_E_ESCAPE);
expect("sub/../../x", fs.open(root, "sub/../../x", FS_RIGHT_READ), FS_E_ESCAPE);
expect("a symlink out of the share", fs.open(root, "out", FS_RIGHT_READ), FS_E_ESCAPE);
expect("a backslash", fs.open(root, "..\\a.txt", FS_RIGHT_READ), FS_E_NAME);
let long = "";
for (let i = 0; i < 256; i++) long += "n";
expect("a 256-byte name", fs.open(root, long, FS_RIGHT_READ), FS_E_NAME);
passed("no way above a handle, nor out by a symlink");

// ---- Read-only -------------------------------------------------------------------------------------
expect("open for writing", fs.open(root, "a.txt", FS_RIGHT_READ | FS_RIGHT_WRITE), E_MISSING_RIGHT);
expect("open for appending", fs.open(root, "a.txt", FS_RIGHT_APPEND), E_MISSING_RIGHT);
expect("open with every right", fs.open(root, "sub", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY), E_MISSING_RIGHT);
expect("create", fs.open(root, "new.txt", FS_RIGHT_READ | FS_OPEN_CREATE), E_MISSING_RIGHT);
expect("truncate on open", fs.open(root, "a.txt", FS_RIGHT_READ | FS_OPEN_TRUNCATE), E_MISSING_RIGHT);
expect("mkdir", fs.mkdir(root, "d"), E_MISSING_RIGHT);
expect("unlink", fs.unlink(root, "a.txt"), E_MISSING_RIGHT);
expect("rename", fs.rename(root, "a.txt", "c.txt"), E_MISSING_RIGHT);
expect("write", fs.write(a, 0, 4), E_MISSING_RIGHT);
expect("append", fs.append(a, 4), E_MISSING_RIGHT);
expect("truncate", fs.truncate(a, 0), E_MISSING_RIGHT);
expect("stream WRITE", raw(a, STREAM_WRITE, [1, 0x41]), E_MISSING_RIGHT);
ok("sync", fs.sync(a));
if (readString(a, 0, 5) != "hello") fail("a.txt is as it was", 0);
passed("everything that would change the share answers E_MISSING_RIGHT");

// ---- Handles -----------------------------------------------------------------------------------------
const copy = ok("copy the handle", capCopy(b));
ok("close sub/b.txt", fs.close(b));
expect("stat a closed handle's copy", fs.stat(copy), FS_E_STALE);
expect("read a closed handle's copy", fs.read(copy, 0, 1), FS_E_STALE);
expect("close the published root", fs.close(ok("copy the root", capCopy(root))), E_INVALID_ARGUMENT);
ok("the root still works", fs.stat(root));
ok("close the root's other handle", fs.close(top));
passed("closed handles are stale; the published root stays");

// ---- Bad requests -------------------------------------------------------------------------------------
msgBegin(999);
expect("an unknown label (refused by contract FileSystem: the server never sees it)", msgInvoke(a), E_CONTRACT);
expect("READ without words", raw(a, FS_READ, []), E_BAD_MESSAGE);
expect("READ of 1000 inline bytes", raw(a, FS_READ, [0, 0, 1000]), E_INVALID_ARGUMENT);
expect("READ past the buffer", fs.read(a, 0, 16, fs.bufferBytes - 8), E_INVALID_ARGUMENT);
expect("READDIR without a Region", raw(root, FS_READDIR, [0, 0, 4096]), E_BAD_MESSAGE);
expect("OPEN without a path length", raw(root, 2, [FS_RIGHT_READ]), E_INVALID_ARGUMENT);
expect("OPEN whose path is longer than its words", raw(root, 2, [FS_RIGHT_READ, 100, 0x41414141]), E_BAD_MESSAGE);
expect("stream READ of 0 bytes", raw(a, STREAM_READ, [0]), E_INVALID_ARGUMENT);
expect("stream READ of 253 bytes", raw(a, STREAM_READ, [253]), E_INVALID_ARGUMENT);
ok("the server still answers", fs.info(service));
if (readString(a, 0, 5) != "hello") fail("and still reads", 0);
passed("bad requests get statuses and the server keeps serving");
print("hostfs-check: all passed");
exit(0);
