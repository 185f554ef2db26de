// A differential test of the file system's page cache (test/fs/page-cache.test.ts): seeded random
// reads, writes, truncates, syncs, closes and reopens on FILES files, each through a handle of a
// random kind — plain (data moved by Region), attached (FS_ATTACH), direct (FS_OPEN_DIRECT),
// inline (message words) or mapped (attached and FS_MAP: reads answered from the map when it holds
// them, with no call; a server without room for a map answers them itself) — checked against a model of every file's bytes kept here. Writes land
// anywhere, past the end too (a hole before them reads zeros); reads ask past the end as often as
// not. Every answer is compared with the model: the count and every byte.
// FsClient.read does not map handles by itself here (autoMapAfter 0: each kind is what it says),
// unless `auto` is given: then it does, as it does for any program (files mapped after a few
// reads, at most 8 maps held, the least recently read let go of), and the model checks that too.
//   service model fs-cache-model use=fs memory=1024 -- SEED OPERATIONS [verify] [auto]
// Prints "fs-cache-model: N operations, all matched (M reads from maps)" or "fs-cache-model: FAIL: ..." (and exits
// 1). With `verify` it changes nothing: it replays the model for SEED and OPERATIONS, then reads
// every file whole and compares (after a reboot: everything the earlier run did was committed when
// the machine halted).
import { args, exit, E_QUOTA, lineBegin, lineAdd, lineAddU32, lineAddU64, linePrint, STDERR } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_INLINE_BYTES, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_DIRECT,
  FS_OPEN_TRUNCATE,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const FILES: i32 = 3;
/** The most a file grows to (its model's room). */
const MAX_SIZE: u32 = 640 << 10;
/** The client's buffer: the largest single transfer. */
const BUFFER_PAGES: u32 = 64;
const KINDS: i32 = 5;
const PLAIN: i32 = 0;
const ATTACHED: i32 = 1;
const DIRECT: i32 = 2;
const INLINE: i32 = 3;
const MAPPED: i32 = 4;

const argv = args();
if (argv.length < 3) {
  lineBegin("fs-cache-model: FAIL: arguments: SEED OPERATIONS [verify]");
  linePrint(STDERR);
  exit(1);
}
let seed = u32.parse(argv[1]);
const OPERATIONS = u32.parse(argv[2]);
const VERIFY = argv.length > 3 && argv[3] == "verify";
const AUTO = argv.includes("auto");

const fs = new FsClient(MEMORY, BUFFER_PAGES);
if (!AUTO) fs.autoMapAfter = 0;
const model = memory.data(<i32>(MAX_SIZE * <u32>FILES), 16);
const sizes = new StaticArray<u32>(FILES);
/** Each file's handles of each kind (0: closed). */
const handles = new StaticArray<i32>(FILES * KINDS);
const names: string[] = ["a.dat", "b.dat", "c.dat"];

function next(): u32 {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed;
}
function below(n: u32): u32 {
  return n == 0 ? 0 : next() % n;
}

function fail(what: string, status: i32): void {
  lineBegin("fs-cache-model: FAIL: ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(fsErrorName(status));
  linePrint(STDERR);
  exit(1);
}

function mismatch(op: u32, what: string, file: i32, at: u64, got: u32, want: u32): void {
  lineBegin("fs-cache-model: FAIL: operation ");
  lineAddU32(op);
  lineAdd(": ");
  lineAdd(what);
  lineAdd(" of ");
  lineAdd(names[file]);
  lineAdd(" at ");
  lineAddU64(at);
  lineAdd(": got ");
  lineAddU32(got);
  lineAdd(", the model has ");
  lineAddU32(want);
  linePrint(STDERR);
  exit(1);
}

function check(what: string, status: i32): i32 {
  if (status < 0) fail(what, status);
  return status;
}

@inline function modelAt(file: i32): usize {
  return model + <usize>file * MAX_SIZE;
}

let root: i32 = 0;

/** The handle of `kind` on `file`, opened (and attached) when it is not. */
function handle(file: i32, kind: i32): i32 {
  const slot = file * KINDS + kind;
  let h = unchecked(handles[slot]);
  if (h != 0) return h;
  const flags = FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | (kind == DIRECT ? FS_OPEN_DIRECT : 0);
  h = check("open", fs.open(root, names[file], flags));
  if (kind == ATTACHED || kind == MAPPED) {
    const attached = check("attach", fs.attach(h));
    fs.close(h);
    h = attached;
  }
  if (kind == MAPPED) {
    const mapped = fs.map(h);
    if (mapped < 0 && mapped != E_QUOTA) fail("map", mapped); // (no room for a map: its reads go to the server)
  }
  unchecked((handles[slot] = h));
  return h;
}

function closeAll(file: i32): void {
  for (let kind = 0; kind < KINDS; kind++) {
    const slot = file * KINDS + kind;
    if (unchecked(handles[slot]) != 0) check("close", fs.close(unchecked(handles[slot])));
    unchecked((handles[slot] = 0));
  }
}

// The model's side of each operation, and (unless verifying) the file system's.

function write(op: u32, file: i32): void {
  const kind = <i32>below(KINDS);
  const most: u32 = kind == INLINE ? FS_INLINE_BYTES : below(8) == 0 ? fs.bufferBytes : 16384;
  const length: u32 = 1 + below(most);
  // Near the end as often as anywhere: appends, overwrites, and writes past the end (a hole).
  const size = unchecked(sizes[file]);
  let at = below(4) == 0 ? size + below(20000) : below(size + 1);
  if (at + length > MAX_SIZE) at = MAX_SIZE - length;
  const to = modelAt(file) + at;
  if (at > size) memory.fill(modelAt(file) + size, 0, at - size);
  for (let i: u32 = 0; i < length; i++) store<u8>(to + i, <u8>next());
  if (at + length > size) unchecked((sizes[file] = at + length));
  if (VERIFY) return;
  const h = handle(file, kind);
  let n: i32;
  if (kind == INLINE) n = fs.writeInline(h, at, to, length);
  else {
    memory.copy(fs.address, to, length);
    n = fs.write(h, at, length);
  }
  if (n < 0) fail("write", n);
  if (<u32>n != length) mismatch(op, "bytes written", file, at, <u32>n, length);
}

function read(op: u32, file: i32): void {
  const kind = <i32>below(KINDS);
  const most: u32 = kind == INLINE ? FS_INLINE_BYTES : below(8) == 0 ? fs.bufferBytes : 16384;
  const length: u32 = 1 + below(most);
  const size = unchecked(sizes[file]);
  const at = below(size + 8192); // past the end as often as near it
  if (VERIFY) return; // (its draws made: the sequence stays the run's)
  const h = handle(file, kind);
  const scratch = fs.address;
  const n = kind == INLINE ? fs.readInline(h, at, scratch, length) : fs.read(h, at, length);
  if (n < 0) fail("read", n);
  const want: u32 = at >= size ? 0 : min(length, size - at);
  if (<u32>n != want) mismatch(op, "bytes read", file, at, <u32>n, want);
  const from = modelAt(file) + at;
  for (let i: u32 = 0; i < want; i++) {
    if (load<u8>(scratch + i) != load<u8>(from + i)) mismatch(op, "byte", file, at + i, load<u8>(scratch + i), load<u8>(from + i));
  }
}

function truncate(file: i32): void {
  const size = unchecked(sizes[file]);
  const to = below(3) == 0 ? min(MAX_SIZE - 1, size + below(30000)) : below(size + 1);
  if (to > size) memory.fill(modelAt(file) + size, 0, to - size);
  unchecked((sizes[file] = to));
  if (VERIFY) return;
  check("truncate", fs.truncate(handle(file, PLAIN), to));
}

/** Reads `file` whole through a fresh handle and compares it with the model. */
function verifyFile(file: i32): void {
  const h = check("open", fs.open(root, names[file], FS_RIGHT_READ));
  if (fs.size != <u64>unchecked(sizes[file])) mismatch(OPERATIONS, "size", file, 0, <u32>fs.size, unchecked(sizes[file]));
  const size = unchecked(sizes[file]);
  for (let at: u32 = 0; at < size; at += fs.bufferBytes) {
    const want = min(fs.bufferBytes, size - at);
    const n = check("read", fs.read(h, at, want));
    if (<u32>n != want) mismatch(OPERATIONS, "bytes read", file, at, <u32>n, want);
    for (let i: u32 = 0; i < want; i++) {
      if (load<u8>(fs.address + i) != load<u8>(modelAt(file) + at + i)) mismatch(OPERATIONS, "byte", file, at + i, load<u8>(fs.address + i), load<u8>(modelAt(file) + at + i));
    }
  }
  fs.close(h);
}

check("buffer", fs.prepare());
root = check("root", fsRoot(SHARED, 0));
if (!VERIFY) {
  // Start empty: a run is one seed's sequence from nothing.
  for (let file = 0; file < FILES; file++) fs.close(check("create", fs.open(root, names[file], FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE)));
  // Mapped at the start, while the cache has room it has not grown into (a map never evicts its
  // pages: a full cache answers E_QUOTA, and a handle reopened later may go unmapped).
  for (let file = 0; file < FILES; file++) handle(file, MAPPED);
}
for (let op: u32 = 0; op < OPERATIONS; op++) {
  const file = <i32>below(FILES);
  const what = below(100);
  if (what < 38) write(op, file);
  else if (what < 38 + 38) read(op, file);
  else if (what < 86) truncate(file);
  else if (what < 93) {
    if (!VERIFY) check("sync", fs.sync(handle(file, PLAIN)));
  } else if (!VERIFY) closeAll(file);
}
if (VERIFY) for (let file = 0; file < FILES; file++) verifyFile(file);
else {
  // Synced at the end, so that a boot after this one finds all of it (verify).
  check("sync", fs.sync(handle(0, PLAIN)));
  for (let file = 0; file < FILES; file++) closeAll(file);
}
lineBegin("fs-cache-model: ");
lineAddU32(OPERATIONS);
lineAdd(" operations, all matched (");
lineAddU64(fs.maps.hits);
lineAdd(" reads from maps)");
linePrint();
exit(0);
