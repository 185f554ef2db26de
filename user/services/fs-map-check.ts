// Mapped reads (FS_MAP, docs/FS.md "Mapped reads"; test/fs/file-maps.test.ts). Modes:
// - `edges`: one file mapped by one handle while another handle writes, cuts and grows it: each
//   change is seen by the mapped handle's next read, answered from the map (its hit count grows),
//   never by a call; bytes past a cut read zeros through the raw view too; a second mapping shares
//   the map; what FS_MAP refuses (a directory, a direct handle, a handle without READ); and a view
//   kept after its map is freed reads zeros (magic 0). Prints "fs-map-check: edges all right".
// - `stamper` and `reader`, run at once (two processes) on /stamped.dat: the stamper writes the
//   file whole, every word the round's number, ROUNDS times (cutting it to a random size first
//   every fourth round), and after each round writes the number to /progress.dat; the reader reads
//   /progress.dat through the server, then /stamped.dat at random through a mapped handle. Every
//   read must hold one number in every word (never torn between two writes) and never a smaller
//   one than /progress.dat said before the read (never stale), and some must come from the map.
//   The stamper prints "fs-map-check: stamper done N rounds"; the reader "fs-map-check: reader
//   done N reads, M from the map, K cut short".
// - `auto`: FsClient.read mapping files by itself (autoMapAfter): a file read whole in one call and
//   its end is not mapped, nor one read three times; the fourth read maps it and the fifth comes
//   from the map; a write, a cut and a growth by another session are seen by the next read at
//   once; a client reading more files than it maps lets go of the least recently read (its view
//   gone, the server's map freed: a kept copy of the view reads magic 0), and every read of every
//   file is right throughout. Prints "fs-map-check: auto all right".
// - `reader-auto`: `reader` without FsClient.map: the plain handle read by FsClient.read, which
//   maps it by itself.
// - `seqlock`: MappedFiles.read against a map laid out by hand in this process's memory: an odd
//   sequence, a magic of 0, a page not valid, pages past the map's are misses; the size says where
//   the file ends. Each fails when its check is skipped. Prints "fs-map-check: seqlock all right".
// Any failure prints "fs-map-check: FAIL: ..." and exits 1.
//   service check fs-map-check use=fs memory=512 -- MODE [ROUNDS]
import {
  args, exit, lineBegin, lineAdd, lineAddU32, lineAddU64, linePrint, capCopy, capDrop, sleep, yield_, msgBegin, msgInvoke,
  msgLabel, STDERR, E_INVALID_ARGUMENT, E_MISSING_RIGHT, E_QUOTA,
} from "../lib";
import {
  FsClient, fsRoot, fsErrorName, fsStatus, FS_MAP_MAGIC_AT, FS_MAP_MAGIC, FS_MAP_SEQUENCE_AT, FS_MAP_SIZE_AT, FS_MAP_VALID_AT, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE,
  FS_OPEN_DIRECT, FS_OPEN_NOFOLLOW, FS_OPEN_TRUNCATE, FS_CLOSE, FS_E_IS_DIR, FS_E_STALE,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const SIZE: u32 = 64 << 10;
const argv = args();
const MODE = argv.length > 1 ? argv[1] : "edges";
const ROUNDS: u32 = argv.length > 2 ? u32.parse(argv[2]) : 200;
const fs = new FsClient(MEMORY, 16);

function fail(what: string): void {
  lineBegin("fs-map-check: FAIL: ");
  lineAdd(what);
  linePrint(STDERR);
  exit(1);
}

function check(what: string, status: i32): i32 {
  if (status < 0) fail(what + ": " + fsErrorName(status));
  return status;
}

function expect(what: string, got: u64, want: u64): void {
  if (got == want) return;
  lineBegin("fs-map-check: FAIL: ");
  lineAdd(what);
  lineAdd(": ");
  lineAddU64(got);
  lineAdd(", not ");
  lineAddU64(want);
  linePrint(STDERR);
  exit(1);
}

@inline function pattern(at: u64): u8 {
  return <u8>(at * 31 + 7);
}

let seed: u32 = 0x2545f491;
function below(n: u32): u32 {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return n == 0 ? 0 : seed % n;
}

const root = check("root", fsRoot(SHARED, 0));
check("buffer", fs.prepare());

/** Reads `length` at `at` through `file` and checks each byte against `want(offset)`; answers the count. */
function readChecked(what: string, file: i32, at: u64, length: u32, zerosFrom: u64): i32 {
  const n = check(what, fs.read(file, at, length));
  for (let i: u32 = 0; i < <u32>n; i++) {
    const offset = at + <u64>i;
    const want: u8 = offset >= zerosFrom ? 0 : pattern(offset);
    if (load<u8>(fs.address + i) != want) {
      lineBegin("fs-map-check: FAIL: ");
      lineAdd(what);
      lineAdd(": byte ");
      lineAddU64(offset);
      lineAdd(" is ");
      lineAddU32(load<u8>(fs.address + i));
      lineAdd(", not ");
      lineAddU32(want);
      linePrint(STDERR);
      exit(1);
    }
  }
  return n;
}

if (MODE == "edges") {
  const writer = check("create", fs.open(root, "mapped.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  for (let i: u32 = 0; i < SIZE; i++) store<u8>(fs.address + i, pattern(i));
  expect("write", check("write", fs.write(writer, 0, SIZE)), SIZE);
  const plain = check("open", fs.open(root, "mapped.dat", FS_RIGHT_READ));
  const reader = check("attach", fs.attach(plain));
  check("map", fs.map(reader));
  const header = fs.maps.addressOf(reader);
  if (header == 0) fail("no map address");
  // The whole file is in the page cache (just written): the map was made holding it.
  let hits = fs.maps.hits;
  expect("first read", readChecked("first read", reader, 1000, 20000, SIZE), 20000);
  expect("reads from the map", fs.maps.hits, hits + 1);

  // A write through another handle: the mapped handle's next read sees it, from the map.
  for (let i: u32 = 0; i < 100; i++) store<u8>(fs.address + i, 0xee);
  check("write", fs.write(writer, 5000, 100));
  hits = fs.maps.hits;
  expect("read after the write", check("read", fs.read(reader, 4096, 4096)), 4096);
  for (let i: u32 = 0; i < 4096; i++) {
    const offset = 4096 + i;
    const want: u8 = offset >= 5000 && offset < 5100 ? 0xee : pattern(offset);
    if (load<u8>(fs.address + i) != want) fail("a write through another handle is not seen by the mapped handle's next read");
  }
  expect("the read after the write came from the map", fs.maps.hits, hits + 1);
  for (let i: u32 = 0; i < 100; i++) store<u8>(fs.address + i, pattern(5000 + i));
  check("write", fs.write(writer, 5000, 100));

  // A cut: reads stop at the new end, and the map's bytes past it are zeros (the raw view too).
  check("truncate", fs.truncate(writer, 6000));
  hits = fs.maps.hits;
  expect("read across the cut", readChecked("read across the cut", reader, 4096, 8192, SIZE), 6000 - 4096);
  expect("read past the cut", check("read past the cut", fs.read(reader, 8192, 100)), 0);
  expect("the reads after the cut came from the map", fs.maps.hits, hits + 2);
  for (let at: usize = 6000; at < SIZE; at++) {
    if (load<u8>(header + 4096 + at) != 0) fail("the map shows a byte past the cut through the raw view");
  }
  // Grown again (a hole), then written past the hole: zeros, then the bytes.
  check("truncate", fs.truncate(writer, 20000));
  for (let i: u32 = 0; i < 4096; i++) store<u8>(fs.address + i, pattern(30000 + i));
  check("write", fs.write(writer, 30000, 4096));
  expect("read of the hole", readChecked("read of the hole", reader, 5000, 25000, 6000), 25000);
  expect("read after the hole", readChecked("read after the hole", reader, 30000, 8192, 40000), 4096);
  // Written back whole, and read again through the map (the server made the pages valid).
  for (let i: u32 = 0; i < SIZE; i++) store<u8>(fs.address + i, pattern(i));
  check("write", fs.write(writer, 0, SIZE));
  readChecked("read", reader, 0, SIZE, SIZE);
  hits = fs.maps.hits;
  expect("read again", readChecked("read again", reader, 0, SIZE, SIZE), SIZE);
  expect("the read again came from the map", fs.maps.hits, hits + 1);

  // A second mapping of the file shares the map; it lives while one of them does.
  const second = check("open", fs.open(root, "mapped.dat", FS_RIGHT_READ));
  check("map", fs.map(second));
  if (fs.maps.addressOf(second) != header) fail("a second mapping of one file got another map");
  const kept = check("copy the view", capCopy(fs.maps.viewOf(reader), 0xffffffff));
  fs.close(reader);
  hits = fs.maps.hits;
  expect("read through the second mapping", readChecked("read", second, 100, 4000, SIZE), 4000);
  expect("the second mapping reads from the map", fs.maps.hits, hits + 1);
  fs.close(second);
  // Both closed: the map is freed, and a view kept since reads zeros, never what its frames hold next.
  expect("a kept view's magic after the map is freed", load<u32>(header + FS_MAP_MAGIC_AT), 0);
  for (let at: usize = 0; at < 8192; at++) if (load<u8>(header + at) != 0) fail("a freed map's view does not read zeros");
  capDrop(kept);

  // What FS_MAP refuses.
  const dir = check("open /", fs.open(root, ".", FS_RIGHT_READ));
  expect("map of a directory", <u64>(-fs.map(dir)), <u64>(-FS_E_IS_DIR));
  fs.close(dir);
  const direct = check("open direct", fs.open(root, "mapped.dat", FS_RIGHT_READ | FS_OPEN_DIRECT));
  expect("map of a direct handle", <u64>(-fs.map(direct)), <u64>(-E_INVALID_ARGUMENT));
  fs.close(direct);
  const writeOnly = check("open write-only", fs.open(root, "mapped.dat", FS_RIGHT_WRITE));
  expect("map without READ", <u64>(-fs.map(writeOnly)), <u64>(-E_MISSING_RIGHT));
  fs.close(writeOnly);
  check("symlink", fs.symlink(root, "mapped.dat", "mapped.link"));
  const link = check("open the link", fs.open(root, "mapped.link", FS_RIGHT_READ | FS_OPEN_NOFOLLOW));
  expect("map of a symbolic link", <u64>(-fs.map(link)), <u64>(-E_INVALID_ARGUMENT));
  fs.close(link);

  // The map freed under a client that still reads through it (its handle closed through a copy
  // of the capability): the next read finds the magic gone and asks the server, which says the
  // handle is stale; nothing faults, no byte comes from the freed map.
  const doomed = check("open", fs.open(root, "mapped.dat", FS_RIGHT_READ));
  check("map", fs.map(doomed));
  expect("read before the map is freed", readChecked("read", doomed, 0, 4096, SIZE), 4096);
  const copy = check("copy the handle", capCopy(doomed, 0xffffffff));
  msgBegin(FS_CLOSE);
  check("close through the copy", msgInvoke(copy) < 0 ? -1 : fsStatus(msgLabel()));
  capDrop(copy);
  hits = fs.maps.hits;
  expect("read after the map is freed", <u64>(-fs.read(doomed, 0, 4096)), <u64>(-FS_E_STALE));
  expect("a freed map answers no read", fs.maps.hits, hits);
  expect("the client forgot the freed map", <u64>fs.maps.addressOf(doomed), 0);
  capDrop(doomed);

  // Maps until the server has no more room (E_QUOTA; at most 16 maps live): every handle still
  // reads, mapped or not. (A client maps 8 files at most: three clients.)
  const clients: FsClient[] = [new FsClient(MEMORY, 1), new FsClient(MEMORY, 1), new FsClient(MEMORY, 1)];
  const many = new StaticArray<i32>(24);
  let refused = false;
  let made = 0;
  for (let i = 0; i < 24 && !refused; i++) {
    const client = clients[i / 8];
    check("buffer", client.prepare());
    const h = check("create", client.open(root, "many" + i.toString(), FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
    for (let k: u32 = 0; k < 4096; k++) store<u8>(client.address + k, pattern(k));
    check("write", client.write(h, 0, 4096));
    many[i] = h;
    const mapped = client.map(h);
    if (mapped == E_QUOTA) refused = true;
    else if (mapped == 0) made++;
    else check("map", mapped);
    memory.fill(client.address, 0, 4096);
    expect("read of a file mapped or not", check("read", client.read(h, 0, 4096)), 4096);
    for (let k: u32 = 0; k < 4096; k++) if (load<u8>(client.address + k) != pattern(k)) fail("a read of a file mapped or not is wrong");
  }
  if (!refused || made == 0) fail("the server never ran out of room for maps, or never made one: " + made.toString());
  for (let i = 0; i < 24; i++) if (many[i] != 0) clients[i / 8].close(many[i]);
  if (FS_MAP_MAGIC == 0) fail("no magic");
  fs.close(writer);
  lineBegin("fs-map-check: edges all right");
  linePrint();
  exit(0);
}

/** Fills `length` bytes of the buffer with `round` in every word. */
function stamp(round: u32, length: u32): void {
  for (let i: u32 = 0; i < length; i += 4) store<u32>(fs.address + i, round);
}

if (MODE == "stamper") {
  const file = check("create", fs.open(root, "stamped.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  const progress = check("create", fs.open(root, "progress.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  const word = memory.data(8);
  for (let round: u32 = 1; round <= ROUNDS; round++) {
    if (round % 4 == 0) {
      check("truncate", fs.truncate(file, <u64>(below(SIZE / 4) * 4)));
      yield_(); // the reader meets the file cut
    }
    stamp(round, SIZE);
    expect("write", check("write", fs.write(file, 0, SIZE)), SIZE);
    store<u32>(word, round);
    check("progress", fs.writeInline(progress, 0, word, 4));
    yield_();
  }
  check("stamp the end", fs.writeInline(progress, 4, word, 4)); // 8 bytes: done
  lineBegin("fs-map-check: stamper done ");
  lineAddU32(ROUNDS);
  lineAdd(" rounds");
  linePrint();
  exit(0);
}

if (MODE == "seqlock") {
  const PAGES: u32 = 16;
  const header = heap.alloc((PAGES + 1) << 12);
  memory.fill(header, 0, (PAGES + 1) << 12);
  store<u32>(header + FS_MAP_MAGIC_AT, FS_MAP_MAGIC);
  store<u32>(header + FS_MAP_SEQUENCE_AT, 2);
  store<u64>(header + FS_MAP_SIZE_AT, 10000);
  // Valid bits for 64 pages (past the map's 16 too, as a mistaken server might): pages 0-15 hold the file.
  for (let b: usize = 0; b < 8; b++) store<u8>(header + FS_MAP_VALID_AT + b, 0xff);
  for (let i: u32 = 0; i < 10000; i++) store<u8>(header + 4096 + i, pattern(i));
  const maps = fs.maps;
  const HANDLE: i32 = 0x7fff0001; // no capability: the entry is only looked up by it
  maps.set(0, HANDLE, 0, header, PAGES);
  const to = fs.address;
  expect("a read the map holds", <u64>maps.read(0, 100, 5000, to), 5000);
  for (let i: u32 = 0; i < 5000; i++) if (load<u8>(to + i) != pattern(100 + i)) fail("a read from the map is wrong");
  expect("a read across the end", <u64>maps.read(0, 9000, 4096, to), 1000);
  expect("a read at the end", <u64>maps.read(0, 10000, 4096, to), 0);
  store<u32>(header + FS_MAP_SEQUENCE_AT, 3);
  expect("a read while the server changes the map", <u64>(-maps.read(0, 0, 4096, to)), 1);
  store<u32>(header + FS_MAP_SEQUENCE_AT, 4);
  store<u8>(header + FS_MAP_VALID_AT, 0xfb); // page 2 not valid
  expect("a read of a page not valid", <u64>(-maps.read(0, 8190, 10, to)), 1);
  expect("a read beside it", <u64>maps.read(0, 4096, 4096, to), 4096);
  store<u64>(header + FS_MAP_SIZE_AT, 40 * 4096);
  expect("a read past the map's pages", <u64>(-maps.read(0, 15 * 4096, 8192, to)), 1);
  store<u32>(header + FS_MAP_MAGIC_AT, 0);
  expect("a read of a map that is gone", <u64>(-maps.read(0, 0, 100, to)), 1);
  expect("a map that is gone is forgotten", <u64>maps.addressOf(HANDLE), 0);
  lineBegin("fs-map-check: seqlock all right");
  linePrint();
  exit(0);
}

if (MODE == "auto") {
  const other = new FsClient(MEMORY, 16); // another session's writer
  check("buffer", other.prepare());
  const otherRoot = check("session", other.session(root, FS_RIGHT_READ | FS_RIGHT_WRITE));
  const writer = check("create", other.open(otherRoot, "auto.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  for (let i: u32 = 0; i < SIZE; i++) store<u8>(other.address + i, pattern(i));
  expect("write", check("write", other.write(writer, 0, SIZE)), SIZE);
  // Read whole in one call, then its end: no map (a one-shot read pays no MAP).
  const once = check("open", fs.open(root, "auto.dat", FS_RIGHT_READ));
  expect("read whole", readChecked("read whole", once, 0, SIZE, SIZE), SIZE);
  expect("read at the end", check("read at the end", fs.read(once, SIZE, 4096)), 0);
  expect("maps after a one-shot read", <u64>fs.maps.count, 0);
  fs.close(once);
  // Three small reads: still none; the fourth maps the file; the fifth comes from the map.
  const reader = check("open", fs.open(root, "auto.dat", FS_RIGHT_READ));
  for (let i: u32 = 0; i < 3; i++) readChecked("small read", reader, <u64>i * 4096, 4096, SIZE);
  expect("maps after three reads", <u64>fs.maps.count, 0);
  readChecked("fourth read", reader, 3 * 4096, 4096, SIZE);
  if (fs.maps.addressOf(reader) == 0) fail("the fourth read through the server did not map the file");
  let hits = fs.maps.hits;
  readChecked("fifth read", reader, 100, 4096, SIZE);
  expect("the fifth read came from the map", fs.maps.hits, hits + 1);
  // Another session writes: the next read sees it at once, from the map.
  for (let i: u32 = 0; i < 100; i++) store<u8>(other.address + i, 0xee);
  check("write", other.write(writer, 5000, 100));
  hits = fs.maps.hits;
  expect("read after the write", check("read", fs.read(reader, 4096, 4096)), 4096);
  for (let i: u32 = 0; i < 4096; i++) {
    const offset = 4096 + i;
    const want: u8 = offset >= 5000 && offset < 5100 ? 0xee : pattern(offset);
    if (load<u8>(fs.address + i) != want) fail("another session's write is not seen by the next read");
  }
  expect("the read after the write came from the map", fs.maps.hits, hits + 1);
  for (let i: u32 = 0; i < 100; i++) store<u8>(other.address + i, pattern(5000 + i));
  check("write", other.write(writer, 5000, 100));
  // Cut by the other session: reads stop at the new end, at once.
  check("truncate", other.truncate(writer, 6000));
  hits = fs.maps.hits;
  expect("read across the cut", readChecked("read across the cut", reader, 4096, 8192, SIZE), 6000 - 4096);
  expect("read past the cut", check("read past the cut", fs.read(reader, 6000, 100)), 0);
  expect("the reads after the cut came from the map", fs.maps.hits, hits + 2);
  // Grown by the other session (a hole, then bytes): zeros, then the bytes.
  for (let i: u32 = 0; i < 4096; i++) store<u8>(other.address + i, pattern(30000 + i));
  check("write", other.write(writer, 30000, 4096));
  expect("read of the hole", readChecked("read of the hole", reader, 5000, 25000, 6000), 25000);
  expect("read after the hole", readChecked("read after the hole", reader, 30000, 8192, 40000), 4096);
  for (let i: u32 = 0; i < SIZE; i++) store<u8>(other.address + i, pattern(i));
  check("write", other.write(writer, 0, SIZE));
  // More files read than a client maps: the least recently read are let go of, here and in the server.
  const FILES = 12;
  const files = new StaticArray<i32>(FILES);
  const kept = new StaticArray<i32>(FILES);
  const keptAt = new StaticArray<usize>(FILES);
  for (let f = 0; f < FILES; f++) {
    const name = "auto" + f.toString();
    const w = check("create", other.open(otherRoot, name, FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
    for (let i: u32 = 0; i < 8192; i++) store<u8>(other.address + i, pattern(i + <u32>f));
    check("write", other.write(w, 0, 8192));
    other.close(w);
    files[f] = check("open", fs.open(root, name, FS_RIGHT_READ));
  }
  const evictedBefore = fs.maps.evicted;
  for (let round = 0; round < 3; round++) {
    for (let f = 0; f < FILES; f++) {
      for (let r = 0; r < 5; r++) {
        const at = <u64>below(8192 - 512);
        const n = check("read", fs.read(files[f], at, 512));
        expect("read of a file among many", <u64>n, 512);
        for (let i: u32 = 0; i < 512; i++) if (load<u8>(fs.address + i) != pattern(<u32>at + i + <u32>f)) fail("a read of a file among many is wrong");
      }
      if (round == 0 && fs.maps.viewOf(files[f]) != 0) {
        kept[f] = check("copy the view", capCopy(fs.maps.viewOf(files[f]), 0xffffffff));
        keptAt[f] = fs.maps.addressOf(files[f]);
      }
      if (fs.maps.count > 8) fail("the client holds more than 8 maps");
    }
    // After the first round the first four files' maps were let go of (read least recently): the
    // server freed them (no other handle holds them), and a copy of the view kept reads magic 0.
    if (round == 0) for (let f = 0; f < 4; f++) {
      if (keptAt[f] == 0) fail("file " + f.toString() + " was never mapped");
      if (fs.maps.viewOf(files[f]) != 0) fail("file " + f.toString() + "'s map was not let go of");
      expect("a let-go map's magic", load<u32>(keptAt[f] + FS_MAP_MAGIC_AT), 0);
    }
  }
  if (fs.maps.evicted - evictedBefore < <u64>(FILES - 8)) fail("the client let go of no map");
  for (let f = 0; f < FILES; f++) {
    if (kept[f] != 0) capDrop(kept[f]);
    fs.close(files[f]);
  }
  fs.close(reader);
  other.close(writer);
  lineBegin("fs-map-check: auto all right");
  linePrint();
  exit(0);
}

if (MODE == "reader" || MODE == "reader-auto") {
  let file: i32 = -1;
  let progress: i32 = -1;
  for (let tries = 0; (file < 0 || progress < 0) && tries < 1000; tries++) {
    if (file < 0) file = fs.open(root, "stamped.dat", FS_RIGHT_READ); // (the stamper makes them)
    if (progress < 0) progress = fs.open(root, "progress.dat", FS_RIGHT_READ);
    if (file < 0 || progress < 0) sleep(5_000_000);
  }
  check("open /stamped.dat", file);
  check("open /progress.dat", progress);
  // reader-auto: the plain handle, which FsClient.read maps by itself after a few reads.
  const mapped = MODE == "reader" ? check("attach", fs.attach(file)) : file;
  if (MODE == "reader") check("map", fs.map(mapped));
  const word = memory.data(8);
  let reads: u32 = 0;
  let fromMap: u64 = 0;
  let short: u32 = 0;
  let last: u32 = 0;
  for (let round: u32 = 0; ; round++) {
    store<u32>(word + 4, 0);
    const said = check("read progress", fs.readInline(progress, 0, word, 8));
    const before = said >= 4 ? load<u32>(word) : 0;
    if (said == 8 && round >= ROUNDS) break; // the stamper is done
    const at: u32 = below(SIZE / 4) * 4;
    const length: u32 = 4 + below(16384 / 4) * 4;
    const hitsBefore = fs.maps.hits;
    const n = check("read", fs.read(mapped, at, length));
    fromMap += fs.maps.hits - hitsBefore; // (the progress file's reads may come from its map too)
    reads++;
    if (<u32>n < min(length, SIZE - at)) short++;
    if (n == 0) continue;
    const stamped = load<u32>(fs.address);
    for (let i: u32 = 0; i < <u32>n; i += 4) {
      if (load<u32>(fs.address + i) != stamped) fail("a read holds two writes' words (torn): " + stamped.toString() + " and " + load<u32>(fs.address + i).toString());
    }
    if (stamped < before) fail("a read answered round " + stamped.toString() + " after the progress file said " + before.toString() + " (stale)");
    if (stamped < last) fail("a read answered round " + stamped.toString() + " after one answered " + last.toString());
    last = stamped;
    if (round % 8 == 7) yield_();
  }
  lineBegin("fs-map-check: reader done ");
  lineAddU32(reads);
  lineAdd(" reads, ");
  lineAddU64(fromMap);
  lineAdd(" from the map, ");
  lineAddU32(short);
  lineAdd(" cut short");
  linePrint();
  exit(0);
}
fail("no mode " + MODE);
