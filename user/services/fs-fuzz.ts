// Random requests at the file system (test/fs): seeded, thousands of them — every label (and some
// that are none), random flags, paths made of a few names, "." and "..", symbolic links (some
// absolute, some looping), hard links and renames across handles, random offsets, lengths, sizes
// and times, on the roots, the service capability, open and closed handles. Whatever each answers,
// the server must keep answering; at the end it syncs and prints "fs-fuzz: done N requests,
// M refused", and fsck (run after) must find the disk clean. Config:
//   service fuzz fs-fuzz use=fs memory=1024
import { exit, eprint, lineBegin, lineAdd, lineAddU32, linePrint, capCopy, capDrop, msgBegin, msgAddWord, msgInvoke, registryLookup } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_SERVICE, FS_RIGHTS_ALL, FS_OPEN_CREATE, FS_OPEN_EXCLUSIVE, FS_OPEN_TRUNCATE,
  FS_OPEN_DIRECTORY,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const REQUESTS: i32 = 6000;
const POOL: i32 = 24;
const fs = new FsClient(MEMORY, 64);
const pool = new StaticArray<i32>(POOL);
const NAMES: string[] = ["a", "b", "c", "..", ".", "", "d/e", "long-name-" + "x".repeat(200), "a/", "l"];
let seed: u32 = 0x2545f491;

function next(): u32 {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

function below(n: u32): u32 {
  return next() % n;
}

function path(): string {
  const parts: u32 = 1 + below(4);
  let p = below(8) == 0 ? "/" : "";
  for (let i: u32 = 0; i < parts; i++) {
    if (i > 0) p += "/";
    p += unchecked(NAMES[below(<u32>NAMES.length)]);
  }
  return p;
}

function fail(what: string, got: i32): void {
  eprint("fs-fuzz: FAIL: " + what + ": " + fsErrorName(got));
  exit(1);
}

function offset(): u64 {
  switch (below(4)) {
    case 0: return <u64>below(20000);
    case 1: return <u64>below(1 << 30) + (<u64>below(4) << 30);
    case 2: return 0xffffffffffffffff - <u64>below(100);
    default: return <u64>below(4096) << 12;
  }
}

if (fs.prepare() < 0) fail("buffer", -1);
const root = fsRoot(SHARED, 0);
const readOnly = fsRoot(SHARED, 1);
const service = registryLookup(FS_SERVICE);
if (root < 0 || readOnly < 0 || service < 0) fail("capabilities", min(root, min(readOnly, service)));
for (let i = 0; i < POOL; i++) unchecked((pool[i] = root));
let refused: u32 = 0;

for (let n = 0; n < REQUESTS; n++) {
  const pick = below(<u32>POOL + 3);
  const target = pick == <u32>POOL ? readOnly : pick == <u32>POOL + 1 ? service : pick == <u32>POOL + 2 ? root : unchecked(pool[pick]);
  let status: i32 = 0;
  const other = unchecked(pool[below(<u32>POOL)]);
  switch (below(22)) {
    case 0: case 1: case 2: {
      const flags = below(8) | (below(2) * FS_OPEN_CREATE) | (below(4) == 0 ? FS_OPEN_EXCLUSIVE : 0) | (below(4) == 0 ? FS_OPEN_TRUNCATE : 0) | (below(3) == 0 ? FS_OPEN_DIRECTORY : 0);
      status = fs.open(target, path(), flags);
      if (status > 0) {
        const slot = below(<u32>POOL);
        const old = unchecked(pool[slot]);
        if (old != root) {
          if (below(2) == 0) fs.close(old);
          else capDrop(old);
        }
        unchecked((pool[slot] = status));
      }
      break;
    }
    case 3: status = fs.mkdir(target, path()); break;
    case 4: status = fs.unlink(target, path()); break;
    case 5: status = fs.rename(target, path(), path()); break;
    case 6: status = fs.read(target, offset(), below(fs.bufferBytes + 100), below(300)); break;
    case 7: {
      for (let i: u32 = 0; i < 512; i++) store<u8>(fs.address + i, <u8>next());
      status = fs.write(target, offset(), below(fs.bufferBytes + 100), below(300));
      break;
    }
    case 8: status = fs.append(target, below(9000), 0); break;
    case 9: status = fs.truncate(target, below(3) == 0 ? offset() : <u64>below(100000)); break;
    case 10: status = fs.stat(target); break;
    case 11: status = fs.readdir(target, below(40)); break;
    case 12: status = fs.readInline(target, offset(), fs.address, below(300)); break;
    case 13: status = fs.writeInline(target, offset(), fs.address, below(300)); break;
    case 14: {
      // A raw request: any label, any words.
      msgBegin(below(20) == 0 ? 0xfffe0000 + below(100) : below(16));
      const words = below(65);
      for (let i: u32 = 0; i < words; i++) msgAddWord(next());
      status = msgInvoke(target);
      break;
    }
    case 15: status = fs.symlink(target, below(4) == 0 ? "/" + path() : path(), path()); break;
    case 16: status = fs.link(target, path(), other, path(), below(2) == 0); break;
    case 17: status = fs.renameTo(target, path(), other, path()); break;
    case 18: status = fs.setTimes(target, below(16), <i64>offset(), <i64>offset()); break;
    case 19: status = fs.remove(target, path(), below(4)); break;
    case 20: status = fs.readdir(target, below(40), below(2)); break;
    default: {
      const copy = capCopy(target);
      if (copy > 0) {
        status = fs.close(copy); // a copy of a pooled handle: the pool's now answers FS_E_STALE
      }
    }
  }
  if (status < 0) refused++;
}
const alive = fs.info(service);
if (alive < 0) fail("FS_INFO after the requests", alive);
const synced = fs.sync(root);
if (synced < 0) fail("sync", synced);
lineBegin("fs-fuzz: done ");
lineAddU32(<u32>REQUESTS);
lineAdd(" requests, ");
lineAddU32(refused);
lineAdd(" refused");
linePrint();
exit(0);
