// The page cache giving memory back when the kernel needs it (test/fs/page-cache.test.ts): fills
// the file system's cache by reading a file of FILE_MIB twice, says how many pages the cache holds,
// then takes PAGES pages of its own memory (more than the machine has free: the kernel pages
// them out through the pager) and writes and reads every one, and says how many pages the cache
// holds after, and how many chunks it gave back (FS_INFO's words 8 and 15). A small file mapped
// before (FsClient.map) is read from its map then, and read right after: the server frees its maps
// with the chunks it gives back, and the client finds the map gone and asks the server. Before
// that it makes DIRS directories (each a directory block, an inode's block: metadata cache slots)
// and says how many pages the metadata cache held before and after (FS_INFO's words 17, 18).
//   service pressure fs-cache-pressure use=fs memory=PAGES+512 -- FILE_MIB PAGES
// Prints "fs-cache-pressure: cache N pages before, M after, K chunks given back; P pages all
// right; the map read N times before, gone after: yes|no; metadata N pages before, M after" (or
// "... W words wrong", exit 1).
import { args, exit, lineBegin, lineAdd, lineAddU32, linePrint, msgWord, STDERR } from "../lib";
import { growPages } from "../lib/pages";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE } from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const argv = args();
const FILE: u32 = (argv.length > 1 ? u32.parse(argv[1]) : 6) << 20;
const PAGES: u32 = argv.length > 2 ? u32.parse(argv[2]) : 3072;
const fs = new FsClient(MEMORY, 64);

function check(what: string, status: i32): i32 {
  if (status >= 0) return status;
  lineBegin("fs-cache-pressure: FAIL: ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(fsErrorName(status));
  linePrint(STDERR);
  exit(1);
  return status;
}

/** The pages the server's cache holds now; `chunksFreed` its chunks given back so far, `metaPages` the metadata cache's pages. */
let chunksFreed: u32 = 0;
let metaPages: u32 = 0;
function cachePages(root: i32): u32 {
  check("info", fs.info(root));
  chunksFreed = msgWord(15);
  metaPages = msgWord(17);
  return msgWord(8);
}
const DIRS: i32 = 200;

check("buffer", fs.prepare());
const root = check("root", fsRoot(SHARED, 0));
// A small file, mapped while the cache has room, read from the map.
const small = check("create", fs.open(root, "small.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
for (let i: u32 = 0; i < 65536; i++) store<u8>(fs.address + i, <u8>(i * 13 + 1));
check("write small", fs.write(small, 0, 65536));
check("map", fs.map(small));
/** Reads the small file whole and checks every byte. */
function readSmall(): void {
  memory.fill(fs.address, 0, 65536);
  if (check("read small", fs.read(small, 0, 65536)) != 65536) check("read small: short", -1);
  for (let i: u32 = 0; i < 65536; i++) if (load<u8>(fs.address + i) != <u8>(i * 13 + 1)) check("read small: wrong bytes", -1);
}
readSmall();
const mapHits = fs.maps.hits;
for (let i = 0; i < DIRS; i++) check("mkdir", fs.mkdir(root, "d" + i.toString()));
const file = check("create", fs.open(root, "big.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
for (let at: u32 = 0; at < FILE; at += fs.bufferBytes) check("write", fs.write(file, at, fs.bufferBytes));
check("sync", fs.sync(file));
for (let pass = 0; pass < 2; pass++) for (let at: u32 = 0; at < FILE; at += fs.bufferBytes) check("read", fs.read(file, at, fs.bufferBytes));
const before = cachePages(root);
const freedBefore = chunksFreed;
const metaBefore = metaPages;

// Now memory the machine does not have free: every page written, then read back.
const base = growPages(<usize>PAGES << 12);
const value = (i: u32): u32 => i * 2654435761 + 12345;
for (let p: u32 = 0; p < PAGES; p++) store<u32>(base + (<usize>p << 12), value(p));
let wrong: u32 = 0;
for (let p: u32 = 0; p < PAGES; p++) if (load<u32>(base + (<usize>p << 12)) != value(p)) wrong++;
const after = cachePages(root);
const metaAfter = metaPages;
readSmall();
const mapGone = fs.maps.addressOf(small) == 0;

lineBegin("fs-cache-pressure: cache ");
lineAddU32(before);
lineAdd(" pages before, ");
lineAddU32(after);
lineAdd(" after, ");
lineAddU32(chunksFreed - freedBefore);
lineAdd(" chunks given back; ");
lineAddU32(PAGES);
if (wrong == 0) {
  lineAdd(" pages all right; the map read ");
  lineAddU32(<u32>mapHits);
  lineAdd(" times before, gone after: ");
  lineAdd(mapGone ? "yes" : "no");
  lineAdd("; metadata ");
  lineAddU32(metaBefore);
  lineAdd(" pages before, ");
  lineAddU32(metaAfter);
  lineAdd(" after");
} else {
  lineAdd(" pages, ");
  lineAddU32(wrong);
  lineAdd(" words wrong");
}
linePrint();
exit(wrong == 0 ? 0 : 1);
