// Edges of the file system's page cache and attached handles (test/fs/page-cache.test.ts). Modes:
// - `edges`: reads past the end and of holes through every kind of handle, a direct handle and a
//   cached one on the same file seeing each other's writes, and the requests an attached handle
//   refuses (ATTACH of a directory, two buffers, a read longer than its buffer, a write past the
//   client's buffer). Prints "fs-cache-check: edges all right".
// - `truncater` and `reader`, run at once on /shared.dat: the truncater cuts the file at random
//   sizes and writes it back whole, ROUNDS times, then makes /cuts.done; the reader reads it at
//   random through an attached handle meanwhile, until /cuts.done is there. Every byte read must be the file's pattern for its offset (a cut
//   never shows stale or foreign bytes, a read past the end answers short); the reader says how
//   many reads a cut made short. Each prints "fs-cache-check: MODE done ..." at the end.
// - `write-behind`: writes 3 MiB to a new file in calls of its buffer's size and, before any SYNC,
//   asks FS_INFO: fewer than a run's worth of pages (256) may still be dirty, and at least 2 MiB
//   must have been written back (docs/FS.md "The page cache", write-behind); then syncs and reads
//   every byte back; nine in ten blocks written back at least must have gone from the cache's own
//   pages (views of its Regions, no copy). Prints "fs-cache-check: write-behind all right (D dirty,
//   W written back, V from the cache's pages)".
// Any failure prints "fs-cache-check: FAIL: ..." and exits 1.
//   service check fs-cache-check use=fs memory=512 -- MODE [ROUNDS]
import {
  args, exit, lineBegin, lineAdd, lineAddU32, lineAddU64, linePrint, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgWord,
  capDrop, sleep, yield_, CAP_MOVE, E_CONTRACT, E_INVALID_ARGUMENT, STDERR, Memory, Region,
} from "../lib";
import {
  FsClient, fsRoot, fsErrorName, fsStatus, FS_ATTACH, FS_READ, FS_READ_FILL, FS_WRITE, FS_E_IS_DIR, FS_RIGHT_READ,
  FS_RIGHT_WRITE, FS_RIGHTS_ALL, FS_OPEN_CREATE, FS_OPEN_DIRECT, FS_OPEN_DIRECTORY, FS_OPEN_TRUNCATE,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const SIZE: u32 = 256 << 10;
const argv = args();
const MODE = argv.length > 1 ? argv[1] : "edges";
const ROUNDS: u32 = argv.length > 2 ? u32.parse(argv[2]) : 200;
const fs = new FsClient(MEMORY, 64);
fs.autoMapAfter = 0; // the handles' own paths, attached ones above all, not a map FsClient.read would make

function fail(what: string): void {
  lineBegin("fs-cache-check: FAIL: ");
  lineAdd(what);
  linePrint(STDERR);
  exit(1);
}

function check(what: string, status: i32): i32 {
  if (status < 0) fail(what + ": " + fsErrorName(status));
  return status;
}

function expectStatus(what: string, got: i32, want: i32): void {
  if (got != want) fail(what + ": " + fsErrorName(got) + ", not " + fsErrorName(want));
}

/** The big file of the edges (6 MiB: past the single indirect block's 4 MiB), and its bytes: different in every page. */
const BIG: u32 = 6 << 20;
@inline function bigPattern(at: u32): u8 {
  return <u8>((at >> 12) * 13 + at * 31 + 7);
}

@inline function pattern(at: u64): u8 {
  return <u8>(at * 31 + 7);
}

let seed: u32 = 0x9e3779b9;
function below(n: u32): u32 {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return n == 0 ? 0 : seed % n;
}

/** Writes the pattern over [from, to) of `file`, in buffer-sized calls. */
function fillPattern(file: i32, from: u32, to: u32): void {
  for (let at = from; at < to; ) {
    const n = min(to - at, fs.bufferBytes);
    for (let i: u32 = 0; i < n; i++) store<u8>(fs.address + i, pattern(at + i));
    check("write", fs.write(file, at, n));
    at += n;
  }
}

const root = check("root", fsRoot(SHARED, 0));
check("buffer", fs.prepare());

if (MODE == "edges") {
  // Past the end, and holes, through each kind of handle.
  const plain = check("create", fs.open(root, "edges.dat", FS_RIGHTS_ALL | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  const attached = check("attach", fs.attach(check("open", fs.open(root, "edges.dat", FS_RIGHT_READ | FS_RIGHT_WRITE))));
  const direct = check("open direct", fs.open(root, "edges.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_DIRECT));
  store<u8>(fs.address, 0x5a);
  check("write at 1 MiB", fs.write(plain, 1 << 20, 1)); // a hole of 1 MiB, then one byte
  const kinds: i32[] = [plain, attached, direct];
  for (let k = 0; k < kinds.length; k++) {
    const h = kinds[k];
    memory.fill(fs.address, 0xee, 8192);
    if (check("read the hole", fs.read(h, 4096, 8192)) != 8192) fail("a read of the hole was short");
    for (let i: u32 = 0; i < 8192; i++) if (load<u8>(fs.address + i) != 0) fail("a hole read a byte that is not zero");
    if (check("read across the end", fs.read(h, (1 << 20) - 2, 16)) != 3) fail("a read across the end did not stop at it");
    if (load<u8>(fs.address + 2) != 0x5a) fail("the last byte is wrong");
    if (check("read at the end", fs.read(h, (1 << 20) + 1, 16)) != 0) fail("a read at the end answered bytes");
    if (check("read far past the end", fs.read(h, 1 << 40, 4096)) != 0) fail("a read past the end answered bytes");
  }
  if (check("inline read past the end", fs.readInline(plain, 5 << 20, fs.address, 16)) != 0) fail("an inline read past the end answered bytes");
  // A direct handle and a cached one see each other's writes at once.
  for (let i: u32 = 0; i < 4096; i++) store<u8>(fs.address + i, <u8>(i + 1));
  check("cached write", fs.write(plain, 8192, 4096));
  if (check("direct read", fs.read(direct, 8192 + 100, 1)) != 1 || load<u8>(fs.address) != <u8>101) fail("the direct handle did not see the cached write");
  store<u8>(fs.address, 0xab);
  check("direct write", fs.write(direct, 8192 + 200, 1));
  if (check("cached read", fs.read(attached, 8192 + 199, 3)) != 3 || load<u8>(fs.address + 1) != 0xab || load<u8>(fs.address) != <u8>200) fail("the cached handles did not see the direct write");
  // What an attached handle refuses.
  const dir = check("open /", fs.open(root, "", FS_RIGHT_READ | FS_OPEN_DIRECTORY));
  expectStatus("ATTACH of a directory", fs.attach(dir), FS_E_IS_DIR);
  const one = new Region(check("a Region", new Memory(MEMORY).createRegion(1))).view();
  const two = new Region(check("a Region", new Memory(MEMORY).createRegion(1))).view();
  msgBegin(FS_ATTACH); // (after the kernel calls that made the views: they use the message buffer)
  msgAddCap(<u32>check("a view", one) | CAP_MOVE);
  msgAddCap(<u32>check("a view", two) | CAP_MOVE);
  // Contract FileSystem allows ATTACH one capability: the kernel refuses it, and nothing moves.
  const answered = msgInvoke(plain);
  expectStatus("ATTACH with two buffers", answered < 0 ? answered : fsStatus(msgLabel()), E_CONTRACT);
  capDrop(one);
  capDrop(two);
  msgBegin(FS_READ);
  msgAddWord(0);
  msgAddWord(0);
  msgAddWord(fs.bufferBytes + 1); // (its read buffer is as large as this client's buffer)
  msgAddWord(0);
  const long = msgInvoke(attached);
  expectStatus("an attached READ longer than its buffer", long < 0 ? long : fsStatus(msgLabel()), E_INVALID_ARGUMENT);
  msgBegin(FS_WRITE);
  msgAddWord(0);
  msgAddWord(0);
  msgAddWord(4096);
  msgAddWord(fs.bufferBytes - 100); // past the end of the client's buffer the server holds
  const past = msgInvoke(attached);
  expectStatus("an attached WRITE past the client's buffer", past < 0 ? past : fsStatus(msgLabel()), E_INVALID_ARGUMENT);
  // The file is as it was: the refused write changed nothing.
  if (check("read", fs.read(plain, 8192, 4096)) != 4096 || load<u8>(fs.address + 200) != 0xab || load<u8>(fs.address + 201) != <u8>202) fail("a refused request changed the file");
  // A read into the client's buffer (FS_READ_FILL) that would pass its end lands in the read
  // buffer instead (word 1: 0), and the client's buffer is untouched.
  memory.fill(fs.address + fs.bufferBytes - 8, 0xee, 8);
  msgBegin(FS_READ);
  msgAddWord(8192);
  msgAddWord(0);
  msgAddWord(16);
  msgAddWord((fs.bufferBytes - 8) | FS_READ_FILL);
  const over = msgInvoke(attached);
  if (over < 0 || fsStatus(msgLabel()) != 0 || msgWord(0) != 16 || msgWord(1) != 0) fail("a filled READ past the client's buffer was not answered in the read buffer");
  for (let i: u32 = 0; i < 8; i++) if (load<u8>(fs.address + fs.bufferBytes - 8 + i) != 0xee) fail("a filled READ past the client's buffer wrote into it");
  // Through the filler it gave, the server writes reads into this buffer (word 1: 1); once the
  // fillers are revoked the kernel refuses that, and the same read comes through the read buffer.
  memory.fill(fs.address, 0xee, 16);
  msgBegin(FS_READ);
  msgAddWord(8192 + 199);
  msgAddWord(0);
  msgAddWord(3);
  msgAddWord(4 | FS_READ_FILL);
  const filled = msgInvoke(attached);
  if (filled < 0 || msgWord(0) != 3 || msgWord(1) != 1) fail("a READ with FS_READ_FILL did not land in the client's buffer");
  if (load<u8>(fs.address + 4) != <u8>200 || load<u8>(fs.address + 5) != 0xab || load<u8>(fs.address + 3) != 0xee || load<u8>(fs.address + 7) != 0xee) fail("a filled READ put the wrong bytes in the client's buffer");
  check("revoke the fillers", new Region(fs.buffer.region).revokeFillers());
  memory.fill(fs.address, 0xee, 16);
  if (check("read after the revoke", fs.read(attached, 8192 + 199, 3, 4)) != 3 || load<u8>(fs.address + 4) != <u8>200 || load<u8>(fs.address + 5) != 0xab) fail("a read after the fillers were revoked is wrong");
  msgBegin(FS_READ);
  msgAddWord(8192 + 199);
  msgAddWord(0);
  msgAddWord(3);
  msgAddWord(4 | FS_READ_FILL);
  const refused = msgInvoke(attached);
  if (refused < 0 || msgWord(0) != 3 || msgWord(1) != 0) fail("a READ whose filler was revoked did not come through the read buffer");
  // A file past the single indirect block's reach (4 MiB and more: the double indirect map), far
  // larger than the cache (evictions mid-read), written whole and read back through the attached
  // handle into this buffer (each read the kernel's fills from the cache, flushed before a miss
  // takes a page) at offsets that do not fall on blocks; every byte checked, with a pattern that
  // differs from page to page.
  const big = check("create big", fs.open(root, "big.dat", FS_RIGHTS_ALL | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  const bigAttached = check("attach big", fs.attach(big));
  for (let at: u32 = 0; at < BIG; at += fs.bufferBytes) {
    for (let i: u32 = 0; i < fs.bufferBytes; i++) store<u8>(fs.address + i, bigPattern(at + i));
    if (check("write big", fs.write(bigAttached, at, fs.bufferBytes)) != <i32>fs.bufferBytes) fail("a write of the big file was short");
  }
  for (let pass = 0; pass < 2; pass++) {
    const step: u32 = pass == 0 ? fs.bufferBytes : fs.bufferBytes - 4096 - 100;
    for (let at: u32 = pass == 0 ? 0 : 1234; at < BIG; at += step) {
      const want = min(step, BIG - at);
      const into: u32 = pass == 0 ? 0 : 100;
      if (check("read big", fs.read(bigAttached, at, want, into)) != <i32>want) fail("a read of the big file was short");
      for (let i: u32 = 0; i < want; i++) if (load<u8>(fs.address + into + i) != bigPattern(at + i)) fail("a read of the big file put a byte that is not the file's in the buffer");
    }
  }
  fs.close(bigAttached);
  fs.close(big);
  lineBegin("fs-cache-check: edges all right");
  linePrint();
  exit(0);
}

if (MODE == "write-behind") {
  const TOTAL: u32 = 3 << 20;
  const file = check("create", fs.open(root, "behind.dat", FS_RIGHTS_ALL | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  fillPattern(file, 0, TOTAL);
  check("info", fs.info(root));
  const dirty = msgWord(10);
  const writtenBack = msgWord(14);
  const fromViews = msgWord(19);
  if (dirty >= 256) fail("3 MiB written, and " + dirty.toString() + " pages still dirty before the SYNC");
  if (writtenBack < 512) fail("3 MiB written, and only " + writtenBack.toString() + " blocks written back before the SYNC");
  // A file written start to end took its pages in order: its runs lie in the cache's Regions
  // whole, and go to the driver as views of them, not copied into a block buffer.
  if (fromViews * 10 < writtenBack * 9) fail("of " + writtenBack.toString() + " blocks written back only " + fromViews.toString() + " went from the cache's own pages");
  check("sync", fs.sync(file));
  for (let at: u32 = 0; at < TOTAL; ) {
    const n = <u32>check("read", fs.read(file, at, fs.bufferBytes));
    if (n == 0) fail("the file ends early");
    for (let i: u32 = 0; i < n; i++) if (load<u8>(fs.address + i) != pattern(at + i)) fail("a byte read back is not the one written");
    at += n;
  }
  fs.close(file);
  lineBegin("fs-cache-check: write-behind all right (");
  lineAddU32(dirty);
  lineAdd(" dirty, ");
  lineAddU32(writtenBack);
  lineAdd(" written back, ");
  lineAddU32(fromViews);
  lineAdd(" from the cache's pages)");
  linePrint();
  exit(0);
}

if (MODE == "truncater") {
  const file = check("create", fs.open(root, "shared.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE));
  fillPattern(file, 0, SIZE);
  check("sync", fs.sync(file));
  lineBegin("fs-cache-check: truncater ready");
  linePrint();
  for (let round: u32 = 0; round < ROUNDS; round++) {
    const cut = below(SIZE);
    check("truncate", fs.truncate(file, cut));
    yield_(); // the reader reads the file cut
    fillPattern(file, cut, SIZE);
    if (round % 16 == 0) check("sync", fs.sync(file));
    yield_(); // the reader reads between the cuts
  }
  fs.close(check("say it is done", fs.open(root, "cuts.done", FS_RIGHT_WRITE | FS_OPEN_CREATE)));
  lineBegin("fs-cache-check: truncater done ");
  lineAddU32(ROUNDS);
  lineAdd(" cuts");
  linePrint();
  exit(0);
}

if (MODE == "reader") {
  let file: i32 = -1;
  for (let tries = 0; file < 0 && tries < 1000; tries++) {
    file = fs.open(root, "shared.dat", FS_RIGHT_READ); // (the truncater makes it)
    if (file < 0) sleep(5_000_000);
  }
  check("open /shared.dat", file);
  const attached = check("attach", fs.attach(file));
  let reads: u32 = 0;
  let short: u32 = 0;
  // Until the truncater is done (and at least ROUNDS reads), yielding now and then so it cuts meanwhile.
  for (let round: u32 = 0; ; round++) {
    if (round % 8 == 7) {
      yield_();
      if (round >= ROUNDS) {
        const done = fs.open(root, "cuts.done", FS_RIGHT_READ);
        if (done >= 0) {
          fs.close(done);
          break;
        }
      }
    }
    const at: u32 = below(SIZE);
    const length: u32 = 1 + below(16384);
    const n = check("read", fs.read(attached, at, length));
    reads++;
    if (<u32>n < min(length, SIZE - at)) short++;
    for (let i: u32 = 0; i < <u32>n; i++) {
      if (load<u8>(fs.address + i) != pattern(<u64>at + i)) {
        lineBegin("fs-cache-check: FAIL: byte ");
        lineAddU64(<u64>at + i);
        lineAdd(" read ");
        lineAddU32(load<u8>(fs.address + i));
        lineAdd(", not the file's ");
        lineAddU32(pattern(<u64>at + i));
        linePrint(STDERR);
        exit(1);
      }
    }
  }
  lineBegin("fs-cache-check: reader done ");
  lineAddU32(reads);
  lineAdd(" reads, ");
  lineAddU32(short);
  lineAdd(" cut short");
  linePrint();
  exit(0);
}
fail("no mode " + MODE);
