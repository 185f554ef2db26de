// The file system's protocol from a client's side (test/fs): files and directories, rights,
// escapes, stale handles, bad requests, a large sparse file (a full handle table: fs-handles). Prints
// "fs-check: ok: STEP" for each step and "fs-check: all passed", or "fs-check: FAIL: ..." and
// exits 1. Config: `service check fs-check use=fs memory=1024` (slot 3 the Cappage, 4 a Memory).
import {
  exit, print, eprint, capCopy, capDrop, msgBegin, msgAddWord, msgInvoke, msgLabel, registryLookup,
  E_MISSING_RIGHT, E_INVALID_ARGUMENT, E_BAD_MESSAGE, E_CONTRACT, msgAddCap, msgWord, STREAM_WRITE, STREAM_INFO, STREAM_KIND_FILE,
} from "../lib";
import {
  FsClient, fsRoot, fsErrorName, fsStatus, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_RIGHT_APPEND, FS_RIGHTS_ALL,
  FS_OPEN_CREATE, FS_OPEN_EXCLUSIVE, FS_OPEN_TRUNCATE, FS_OPEN_DIRECTORY, FS_KIND_FILE, FS_KIND_DIR, FS_SERVICE,
  FS_E_NOT_FOUND, FS_E_EXISTS, FS_E_NOT_DIR, FS_E_IS_DIR, FS_E_NOT_EMPTY, FS_E_NAME, FS_E_STALE, FS_E_ESCAPE,
  FS_E_TABLE_FULL, FS_READ, direntName, direntNameLength, direntNext, direntKind,
} from "../lib/fs-client";

import { checkName, fail, expect, ok, passed } from "../lib/check-steps";

checkName("fs-check");
const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const BUFFER_PAGES: u32 = 256; // 1 MiB
const fs = new FsClient(MEMORY, BUFFER_PAGES);
const scratch: usize = memory.data(512);

function pattern(offset: u64): u8 {
  return <u8>((offset * 2654435761) >> 13);
}

function fillBuffer(fileOffset: u64, length: u32): void {
  for (let i: u32 = 0; i < length; i++) store<u8>(fs.address + i, pattern(fileOffset + i));
}

function checkBuffer(what: string, fileOffset: u64, length: u32): void {
  for (let i: u32 = 0; i < length; i++) {
    if (load<u8>(fs.address + i) != pattern(fileOffset + i)) {
      eprint("fs-check: FAIL: " + what + ": byte " + (fileOffset + i).toString() + " differs");
      exit(1);
    }
  }
}

function writeString(file: i32, offset: u64, s: string): i32 {
  const n = String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, scratch);
  return fs.writeInline(file, offset, scratch, <u32>n);
}

function readString(file: i32, offset: u64, length: u32): string {
  const n = ok("read inline", fs.readInline(file, offset, scratch, length));
  return String.UTF8.decodeUnsafe(scratch, <usize>n);
}

// ---- The capabilities: the registry's is no root --------------------------------------------------
ok("prepare", fs.prepare());
const root = ok("the root from the Cappage", fsRoot(SHARED, 0));
const readOnlyRoot = ok("the read-only root", fsRoot(SHARED, 1));
const service = ok("look fs up", registryLookup(FS_SERVICE));
ok("FS_INFO on the service capability", fs.info(service));
expect("OPEN on the service capability", fs.open(service, "x", FS_RIGHT_READ), E_MISSING_RIGHT);
passed("the registry's capability answers FS_INFO only");

// ---- Files and directories ------------------------------------------------------------------------
const existing = fs.open(root, "docs", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY);
if (existing >= 0) {
  eprint("fs-check: FAIL: docs exists already (a fresh disk was expected)");
  exit(1);
}
ok("mkdir docs", fs.mkdir(root, "docs"));
expect("mkdir docs again", fs.mkdir(root, "docs"), FS_E_EXISTS);
const docs = ok("open docs", fs.open(root, "docs", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY));
expect("docs is a directory", <i32>fs.kind, <i32>FS_KIND_DIR);
const hello = ok("create docs/hello.txt", fs.open(docs, "hello.txt", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE));
expect("a new file's kind", <i32>fs.kind, <i32>FS_KIND_FILE);
expect("write inline", writeString(hello, 0, "hello, world"), 12);
ok("stat", fs.stat(hello));
expect("size after the write", <i32>fs.size, 12);
if (fs.created <= 1_600_000_000_000_000_000 || fs.modified < fs.created) fail("timestamps are wall-clock ns", <i32>(fs.created / 1_000_000_000));
if (readString(hello, 0, 100) != "hello, world") fail("read back", 0);
if (readString(hello, 7, 5) != "world") fail("read at an offset", 0);
expect("read past the end", fs.readInline(hello, 100, scratch, 10), 0);
expect("create exclusive of an existing file", fs.open(docs, "hello.txt", FS_RIGHT_READ | FS_OPEN_CREATE | FS_OPEN_EXCLUSIVE), FS_E_EXISTS);
expect("a missing file", fs.open(docs, "nope.txt", FS_RIGHT_READ), FS_E_NOT_FOUND);
expect("a file as a directory", fs.open(docs, "hello.txt/x", FS_RIGHT_READ), FS_E_NOT_DIR);
expect("open a file as a directory", fs.open(docs, "hello.txt", FS_RIGHT_READ | FS_OPEN_DIRECTORY), FS_E_NOT_DIR);
expect("read a directory", fs.readInline(docs, 0, scratch, 4), FS_E_IS_DIR);
expect("mkdir under a file", fs.mkdir(hello, "x"), FS_E_NOT_DIR);
passed("create, write, read, stat");

// ---- Rights -----------------------------------------------------------------------------------------
const reader = ok("open read-only", fs.open(docs, "hello.txt", FS_RIGHT_READ));
expect("write through a read-only handle", writeString(reader, 0, "x"), E_MISSING_RIGHT);
expect("truncate through a read-only handle", fs.truncate(reader, 0), E_MISSING_RIGHT);
expect("append through a read-only handle", fs.append(reader, 1), E_MISSING_RIGHT);
const appender = ok("open append-only", fs.open(docs, "hello.txt", FS_RIGHT_APPEND));
store<u8>(fs.address, 0x21); // "!"
expect("append", fs.append(appender, 1), 1);
expect("size after the append", <i32>fs.size, 13);
expect("write at an offset through an append-only handle", writeString(appender, 0, "x"), E_MISSING_RIGHT);
expect("read through an append-only handle", fs.readInline(appender, 0, scratch, 4), E_MISSING_RIGHT);
if (readString(reader, 0, 100) != "hello, world!") fail("the append is there", 0);
expect("ask the read-only root for write", fs.open(readOnlyRoot, "docs/hello.txt", FS_RIGHT_WRITE), E_MISSING_RIGHT);
expect("create under the read-only root", fs.open(readOnlyRoot, "new.txt", FS_RIGHT_READ | FS_OPEN_CREATE), E_MISSING_RIGHT);
expect("mkdir under the read-only root", fs.mkdir(readOnlyRoot, "d"), E_MISSING_RIGHT);
expect("unlink under the read-only root", fs.unlink(readOnlyRoot, "docs/hello.txt"), E_MISSING_RIGHT);
const roDocs = ok("open docs from the read-only root", fs.open(readOnlyRoot, "docs", FS_RIGHT_READ));
expect("more rights than the directory has", fs.open(roDocs, "hello.txt", FS_RIGHT_READ | FS_RIGHT_WRITE), E_MISSING_RIGHT);
if (readString(ok("open to read", fs.open(roDocs, "hello.txt", FS_RIGHT_READ)), 0, 5) != "hello") fail("read under the read-only root", 0);
passed("rights: read-only and append-only handles, a read-only root");

// ---- Escapes ------------------------------------------------------------------------------------------
expect("..", fs.open(docs, "..", FS_RIGHT_READ), FS_E_ESCAPE);
expect("../docs/hello.txt", fs.open(docs, "../docs/hello.txt", FS_RIGHT_READ), FS_E_ESCAPE);
expect("./../x", fs.open(docs, "./../x", FS_RIGHT_READ), FS_E_ESCAPE);
expect("/.. (a leading slash is the handle's own directory)", fs.open(docs, "/..", FS_RIGHT_READ), FS_E_ESCAPE);
ok("docs/../docs/hello.txt from the root", fs.open(root, "docs/../docs/hello.txt", FS_RIGHT_READ));
ok("stat docs", fs.stat(docs));
const docsInode = fs.inode;
ok("stat / under docs", fs.stat(ok("open / under docs", fs.open(docs, "/", FS_RIGHT_READ))));
expect("/ under docs is docs", <i32>fs.inode, <i32>docsInode);
expect("unlink the handle's own directory", fs.unlink(docs, "."), E_INVALID_ARGUMENT);
passed("no way above a directory capability");

// ---- Stale and bad handles ----------------------------------------------------------------------------
const temp = ok("create temp", fs.open(docs, "temp", FS_RIGHTS_ALL | FS_OPEN_CREATE));
const copy = ok("copy its capability", capCopy(temp));
ok("close it", fs.close(temp));
expect("stat a closed handle", fs.stat(copy), FS_E_STALE);
expect("write a closed handle", writeString(copy, 0, "x"), FS_E_STALE);
const doomed = ok("open temp again", fs.open(docs, "temp", FS_RIGHTS_ALL));
ok("unlink temp", fs.unlink(docs, "temp"));
ok("stat an unlinked file still open", fs.stat(doomed)); // it lives while a handle holds it
expect("its link count", <i32>fs.links, 0);
expect("open an unlinked file", fs.open(docs, "temp", FS_RIGHT_READ), FS_E_NOT_FOUND);
ok("close it: the file goes", fs.close(doomed));
ok("mkdir gone", fs.mkdir(docs, "gone"));
const goneDir = ok("open gone", fs.open(docs, "gone", FS_RIGHT_READ | FS_OPEN_DIRECTORY));
ok("remove gone", fs.unlink(docs, "gone"));
expect("stat a removed directory", fs.stat(goneDir), FS_E_STALE);
capDrop(copy);
expect("close the published root", fs.close(ok("copy the root", capCopy(root))), E_INVALID_ARGUMENT);
ok("the root still works", fs.stat(root));
passed("closed handles and removed directories are stale; an unlinked open file lives until closed; the published root stays");

// ---- Bad requests ---------------------------------------------------------------------------------------
// What contract FileSystem forbids never reaches the server: the kernel refuses it (E_CONTRACT).
msgBegin(999);
expect("an unknown label (call)", msgInvoke(hello), E_CONTRACT);
// A stream WRITE bringing a capability: the server would have written "QZXJ" at the handle's
// position (0) and sent the capability back; refused, the file is as it was.
msgBegin(STREAM_WRITE);
msgAddWord(4);
msgAddWord(0x4a585a51); // "QZXJ"
msgAddCap(<u32>docs);
expect("a stream WRITE bringing a capability", msgInvoke(hello), E_CONTRACT);
if (readString(hello, 0, 100) != "hello, world!") fail("a refused WRITE reached the file", 0);
// The stream protocol's INFO: a file, and the bytes from the handle's position (0) to its end.
msgBegin(STREAM_INFO);
ok("stream INFO (call)", msgInvoke(hello));
expect("stream INFO's kind", <i32>msgWord(0), <i32>STREAM_KIND_FILE);
expect("stream INFO's bytes to read", <i32>msgWord(1), 13);
msgBegin(FS_READ);
ok("READ without words (call)", msgInvoke(hello));
expect("READ without words", fsStatus(msgLabel()), E_BAD_MESSAGE);
msgBegin(FS_READ);
msgAddWord(0);
msgAddWord(0);
msgAddWord(1000);
ok("READ of 1000 inline bytes (call)", msgInvoke(hello));
expect("READ of 1000 inline bytes", fsStatus(msgLabel()), E_INVALID_ARGUMENT);
expect("read past the buffer", fs.read(hello, 0, 16, fs.bufferBytes - 8), E_INVALID_ARGUMENT);
let long = "";
for (let i = 0; i < 256; i++) long += "n";
expect("a 256-byte name", fs.open(docs, long, FS_RIGHTS_ALL | FS_OPEN_CREATE), FS_E_NAME);
expect("mkdir .", fs.mkdir(docs, "."), FS_E_EXISTS);
expect("a name after a missing one", fs.mkdir(docs, "a/.."), FS_E_NOT_FOUND);
const name255 = long.substring(0, 255);
const deep = ok("a 255-byte name (its path goes in a Region)", fs.open(docs, name255, FS_RIGHTS_ALL | FS_OPEN_CREATE));
expect("write into it", writeString(deep, 0, "deep"), 4);
const again = ok("open it by a long path", fs.open(root, "docs/" + name255, FS_RIGHT_READ));
if (readString(again, 0, 4) != "deep") fail("read it back", 0);
ok("fs still answers", fs.info(service));
passed("bad requests get errors and the server keeps serving");

// ---- Directories: readdir, unlink, rename -----------------------------------------------------------
ok("mkdir docs/sub", fs.mkdir(docs, "sub"));
ok("create docs/sub/a", fs.open(docs, "sub/a", FS_RIGHT_WRITE | FS_OPEN_CREATE));
for (let i = 0; i < 40; i++) ok("create many", fs.open(docs, "sub/f" + i.toString(), FS_RIGHT_READ | FS_OPEN_CREATE));
expect("unlink a directory that is not empty", fs.unlink(docs, "sub"), FS_E_NOT_EMPTY);
let listed = 0;
let cookie: u32 = 0;
let sawA = false;
const sub = ok("open sub", fs.open(docs, "sub", FS_RIGHT_READ));
for (;;) {
  const n = ok("readdir", fs.readdir(sub, cookie));
  if (n == 0) break;
  let at = fs.address;
  for (let i = 0; i < n; i++) {
    if (direntNameLength(at) == 1 && load<u8>(direntName(at)) == 0x61 && direntKind(at) == FS_KIND_FILE) sawA = true;
    at = direntNext(at);
  }
  listed += n;
  cookie = fs.cookie;
}
expect("entries listed", listed, 41);
if (!sawA) fail("readdir lists a", 0);
ok("rename a file across directories", fs.rename(docs, "sub/a", "moved"));
expect("the old name", fs.open(docs, "sub/a", FS_RIGHT_READ), FS_E_NOT_FOUND);
ok("the new name", fs.open(docs, "moved", FS_RIGHT_READ));
expect("rename a directory into itself", fs.rename(root, "docs", "docs/sub/docs"), E_INVALID_ARGUMENT);
ok("rename a directory", fs.rename(docs, "sub", "sub2"));
ok("mkdir docs/x", fs.mkdir(docs, "x"));
ok("a file in it", fs.open(docs, "x/inside", FS_RIGHT_WRITE | FS_OPEN_CREATE));
ok("move a directory to another parent", fs.rename(root, "docs/x", "x2"));
ok("the file moved with it", fs.open(root, "x2/inside", FS_RIGHT_READ));
expect("and is not under docs", fs.open(docs, "x/inside", FS_RIGHT_READ), FS_E_NOT_FOUND);
ok("a file under the renamed directory", fs.open(docs, "sub2/f7", FS_RIGHT_READ));
ok("rename a file over a file", fs.rename(docs, "sub2/f1", "sub2/f2"));
expect("the replaced file's old name", fs.open(docs, "sub2/f1", FS_RIGHT_READ), FS_E_NOT_FOUND);
for (let i = 2; i < 40; i++) ok("unlink many", fs.unlink(docs, "sub2/f" + i.toString()));
ok("unlink f0", fs.unlink(docs, "sub2/f0"));
ok("unlink an empty directory", fs.unlink(docs, "sub2"));
expect("it is gone", fs.open(docs, "sub2", FS_RIGHT_READ), FS_E_NOT_FOUND);
passed("readdir, rename, unlink");

// ---- A large sparse file ---------------------------------------------------------------------------------
const big = ok("create big", fs.open(root, "big", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
const MIB: u32 = 1 << 20;
for (let i: u32 = 0; i < 4; i++) {
  fillBuffer(<u64>i * MIB, MIB);
  expect("write 1 MiB", fs.write(big, <u64>i * MIB, MIB), <i32>MIB);
}
const far: u64 = (<u64>700 << 20) + 12345; // far past 4 MiB, not aligned
fillBuffer(far, 100000);
expect("write at 700 MiB", fs.write(big, far, 100000), 100000);
const last: u64 = (<u64>1 << 30) - 5000; // the last bytes of the first GiB
fillBuffer(last, 5000);
expect("write just below 1 GiB", fs.write(big, last, 5000), 5000);
ok("stat big", fs.stat(big));
if (fs.size != <u64>1 << 30) fail("size is 1 GiB", <i32>(fs.size >> 20));
if (fs.blocks > 2000) fail("sparse: blocks owned", <i32>fs.blocks);
for (let i: u32 = 0; i < 4; i++) {
  expect("read 1 MiB", fs.read(big, <u64>i * MIB, MIB), <i32>MIB);
  checkBuffer("the first 4 MiB", <u64>i * MIB, MIB);
}
expect("read at 700 MiB", fs.read(big, far, 100000), 100000);
checkBuffer("at 700 MiB", far, 100000);
expect("read just below 1 GiB", fs.read(big, last, 10000), 5000);
checkBuffer("below 1 GiB", last, 5000);
expect("read a hole", fs.read(big, <u64>300 << 20, 8192), 8192);
for (let i: u32 = 0; i < 8192; i++) if (load<u8>(fs.address + i) != 0) fail("a hole reads zeros", <i32>i);
ok("truncate big to 5000", fs.truncate(big, 5000));
ok("stat big", fs.stat(big));
expect("size after truncate", <i32>fs.size, 5000);
expect("blocks after truncate", <i32>fs.blocks, 2);
ok("extend big to 3 MiB", fs.truncate(big, 3 * MIB));
expect("read across the old end", fs.read(big, 0, 8192), 8192);
checkBuffer("what truncate kept", 0, 5000);
for (let i: u32 = 5000; i < 8192; i++) if (load<u8>(fs.address + i) != 0) fail("past a truncate reads zeros", <i32>i);
ok("sync", fs.sync(big));
passed("a 1 GiB sparse file: written far past 4 MiB, read back, truncated");

ok("sync", fs.sync(root));
print("fs-check: all passed");
exit(0);
