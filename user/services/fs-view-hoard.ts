// An attacker of the file system's quota through attached handles' read buffers (redteam, Medium):
// with its own quota full, so that it cannot pay for a view of a freed Region, it attaches a
// handle (the server makes a 256-page read buffer and hands it a view), closes it (the server
// frees the buffer) and keeps the view: the freed buffer's range stays reserved, paid by the
// Region's Memory, the server's (1/16 of the buffer). Repeated, that wore the server's quota down.
// It says how many rounds it made, what the server's page cache may hold before and after, and
// whether an ATTACH works after, in its session (the root's) and in another.
// With `map`, each round maps the file (FS_MAP: the server makes a map Region, freed when its last
// holder closes) instead of attaching; with `map-release`, each round maps it through one handle
// kept open and lets go of the map (FS_MAP with FS_MAP_RELEASE) instead of closing.
// Config: `service hoard fs-view-hoard use=fs memory=512 -- ROUNDS [map|map-release]`.
import { exit, eprint, print, arg, msgLabel, msgBegin, msgAddWord, msgInvoke, msgCap, msgCapCount, msgWord, capDrop, registryLookup, Memory } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_SERVICE, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_ATTACH, FS_CLOSE, FS_MAP, FS_MAP_RELEASE } from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const BUFFER_PAGES: u32 = 256;

function check(what: string, status: i32): i32 {
  if (status < 0) {
    eprint("fs-view-hoard: FAIL: " + what + ": " + fsErrorName(status));
    exit(1);
  }
  return status;
}

const rounds = I32.parseInt(arg(1));
const releases = arg(2) == "map-release";
const maps = arg(2) == "map" || releases;
const fs = new FsClient(MEMORY, 1);
const root = check("root", fsRoot(SHARED, 0));
const service = check("the fs service", registryLookup(FS_SERVICE));
const file = check("open v", fs.open(root, "v", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE));
if (maps) check("v at 16 MiB", fs.truncate(file, 16 << 20));
check("FS_INFO", fs.info(service));
const cacheBefore = msgWord(16);
const views = new StaticArray<i32>(1000);
const fillers = new StaticArray<i32>(64);
const results = new StaticArray<i32>(2);
const results2 = new StaticArray<u32>(2);
// Its own quota full (what it will need to report is allocated already), in Regions it frees after.
const home = new Memory(MEMORY);
let filled = 0;
let lastPages: u32 = 0;
// Fills its quota with Regions of `pages` pages, then of halves of that, down to one: the pages it took.
function fill(pages: u32): u32 {
  let took: u32 = 0;
  while (pages > 0 && filled < 64) {
    const region = home.createRegion(pages);
    if (region < 0) pages >>= 1;
    else {
      unchecked((fillers[filled++] = region));
      took += pages;
      lastPages = pages;
    }
  }
  return took;
}
fill(256);
// Asking the Memory's state makes an object, which may need a heap page the full quota no longer
// has: the smallest filler makes room for it, then the quota is filled again (about 1 run in 3
// faulted in __new here before).
if (filled > 0) capDrop(unchecked(fillers[--filled]));
const full = home.info();
const refilled = fill(lastPages);
unchecked((results2[0] = full.used + refilled));
unchecked((results2[1] = full.quota));
let made = 0;
let refused = 0;
for (; made < rounds && made < 1000; made++) {
  let handle = 0;
  if (maps) {
    handle = releases ? file : fs.open(root, "v", FS_RIGHT_READ);
    if (handle < 0) {
      refused = handle;
      break;
    }
    msgBegin(FS_MAP);
    const mapped = msgInvoke(handle);
    if (mapped < 0 || msgLabel() != 0 || msgCapCount() < 1) {
      refused = mapped < 0 ? mapped : msgLabel() != 0 ? -<i32>msgLabel() : -1;
      break;
    }
    unchecked((views[made] = msgCap(0)));
  } else {
    msgBegin(FS_ATTACH);
    msgAddWord(BUFFER_PAGES);
    const attached = msgInvoke(file);
    if (attached < 0 || msgLabel() != 0 || msgCapCount() < 2) {
      refused = attached < 0 ? attached : msgLabel() != 0 ? -<i32>msgLabel() : -1;
      break;
    }
    handle = msgCap(0);
    unchecked((views[made] = msgCap(1)));
  }
  if (releases) {
    msgBegin(FS_MAP);
    msgAddWord(FS_MAP_RELEASE);
    msgInvoke(handle);
    continue;
  }
  msgBegin(FS_CLOSE);
  msgInvoke(handle);
  capDrop(handle);
}
unchecked((results[0] = made));
unchecked((results[1] = refused));
// The smallest filler goes first: what the rounds allocated may have taken the heap to the edge
// of a page, and asking needs room for the answer (its pages counted back in).
if (filled > 0) capDrop(unchecked(fillers[--filled]));
const end = home.info();
const endUsed = end.used + lastPages;
for (let i = 0; i < filled; i++) capDrop(unchecked(fillers[i]));
check("FS_INFO after", fs.info(service));
const cacheAfter = msgWord(16);
print("fs-view-hoard: its quota " + unchecked(results2[1]).toString() + " pages, " + unchecked(results2[0]).toString() + " used once full, " + endUsed.toString() + " after the rounds");
print("fs-view-hoard: " + unchecked(results[0]).toString() + " rounds" + (unchecked(results[1]) != 0 ? " (then " + fsErrorName(unchecked(results[1])) + ")" : "") +
  "; the page cache may hold " + cacheBefore.toString() + " pages before, " + cacheAfter.toString() + " after");
// Another attach, its quota free again, through the same session (the root's) and through a
// session of its own, as another client would: does the server still make read buffers?
function attachOnce(handle: i32): string {
  msgBegin(FS_ATTACH);
  msgAddWord(BUFFER_PAGES);
  const status = msgInvoke(handle);
  const label = msgLabel();
  return status < 0 ? fsErrorName(status) : label != 0 ? fsErrorName(-<i32>label) : "ok";
}
const again = attachOnce(file);
const session = check("a session", fs.session(root, FS_RIGHT_READ));
const other = check("open v in the session", fs.open(session, "v", FS_RIGHT_READ));
const elsewhere = attachOnce(other);
print("fs-view-hoard: an attach after: " + again + "; from another session: " + elsewhere);
if (maps) {
  msgBegin(FS_MAP);
  const mapped = msgInvoke(other);
  const label = msgLabel();
  print("fs-view-hoard: a map from another session: " + (mapped < 0 ? fsErrorName(mapped) : label != 0 ? fsErrorName(-<i32>label) : "ok"));
  check("FS_INFO at the end", fs.info(service));
  print("fs-view-hoard: the page cache holds " + msgWord(9).toString() + " pages of " + msgWord(8).toString());
}
exit(0);
