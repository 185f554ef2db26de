// The pager (docs/MEMORY.md "The pager protocol"): the kernel's page I/O, done in user space on a
// swap file of the file system. It only ever sees sealed pages: the kernel encrypts and
// authenticates each one, and checks what comes back, so this process is trusted with nothing
// but service.
// Config:
//   service pager pager memory=1024 use=fs pager=16384 control pin=2
// Slots: 2 the registry, 3 a Memory (the Regions of page-ins), 4 the Cappage the file system
// publishes its root in, 5 the paging channel's receive capability (init makes it), 6 a call
// capability to init's control Receiver: once everything below is in place — its tables touched,
// /swap open — the pager says READY there, and init tells the kernel to page through the channel.
// Paging before that could leave the pager waiting for frames only it could free. pin=2: a paged-out pager could never page
// itself back in; the file system and the block driver it needs must be pinned too.
//
// PAGE_OUT brings a Region holding the ciphertext, its nonce and tag in words, and a one-shot
// request: the page goes to a slot of /swap, the Region is freed (so its frame goes back), and
// the request is answered. PAGE_IN brings a request: the slot is read into a new Region, which
// goes back with the nonce and tag. Nothing allocates in the loop.
import {
  eprint, print, errorName, exit, Process, Memory, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgWord,
  msgCap, msgCapCount, capDrop, CAP_MOVE, MSG_PAGE_OUT, MSG_PAGE_IN, OP_PAGER_DONE, OP_RECEIVER_RECEIVE, OP_REGION_VIEW,
  OP_REGION_FREE, E_QUOTA, E_INVALID_ARGUMENT, lineBegin, lineAdd, lineAddU32, linePrint,
} from "../lib";
import {
  FsClient, fsRoot, fsErrorName, fsStatus, FS_READ, FS_WRITE, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE,
  FS_OPEN_TRUNCATE,
} from "../lib/fs-client";

const MEMORY: i32 = 3;
const FS_ROOTS: i32 = 4;
const CHANNEL: i32 = 5;
const CONTROL: i32 = 6;
const CONTROL_PAGER_READY: u32 = 2;
const PAGE: u32 = 4096;
/** Slots of /swap (128 MiB): the store init announces must not be larger. */
const SLOTS: u32 = 32768;
/** The table from (space, page) to a slot: open addressing, twice the slots, a power of two. */
const TABLE: u32 = 65536;
const EMPTY: u32 = 0xffffffff;
const GONE: u32 = 0xfffffffe;
const SEAL_WORDS: u32 = 7; // nonce (3 words) and tag (4)

const keySpace: usize = memory.data(<i32>(TABLE * 4));
const keyPage: usize = memory.data(<i32>(TABLE * 4));
const slotOf: usize = memory.data(<i32>(TABLE * 4));
const freeSlots: usize = memory.data(<i32>(SLOTS * 4));
const seals: usize = memory.data(<i32>(SLOTS * SEAL_WORDS * 4));
let freeCount: u32 = 0;
/** Pages stored and given back, for the progress line every PROGRESS page-ins. */
let pagesOut: u32 = 0;
let pagesIn: u32 = 0;
const PROGRESS: u32 = 4096;
const sealWords = new StaticArray<u32>(<i32>SEAL_WORDS);

function fail(what: string, status: i32): void {
  eprint("pager: " + what + ": " + fsErrorName(status));
  exit(1);
}

for (let i: u32 = 0; i < TABLE; i++) store<u32>(slotOf + (<usize>i << 2), EMPTY);
for (let i: u32 = 0; i < SLOTS; i++) store<u32>(freeSlots + (<usize>i << 2), SLOTS - 1 - i);
freeCount = SLOTS;

const listening = Process.self().listen(true); // PAGE_OUT and PAGE_IN bring capabilities
if (listening < 0) fail("listen", listening);
const fs = new FsClient(MEMORY, 1);
const root = fsRoot(FS_ROOTS);
if (root < 0) fail("no file system root", root);
const swap = fs.open(root, "swap", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE);
if (swap < 0) fail("open /swap", swap);
// Ready: every page this process will use is touched, so it never waits for a page-in itself.
msgBegin(CONTROL_PAGER_READY);
const ready = msgInvoke(CONTROL);
if (ready < 0 || msgLabel() != 0) fail("tell init it is ready", ready < 0 ? ready : -<i32>msgLabel());
print("pager: paging to /swap, " + SLOTS.toString() + " slots of 4 KiB");

@inline function at(table: usize, i: u32): usize {
  return table + (<usize>i << 2);
}

/** The table index holding (space, page), or the first free one on its probe path (EMPTY's or GONE's). */
function find(space: u32, page: u32, forInsert: bool): i32 {
  let i = ((space * 0x9e3779b1) ^ (page * 0x85ebca6b)) & (TABLE - 1);
  let firstGone: i32 = -1;
  for (let n: u32 = 0; n < TABLE; n++) {
    const slot = load<u32>(at(slotOf, i));
    if (slot == EMPTY) return forInsert ? (firstGone >= 0 ? firstGone : <i32>i) : -1;
    if (slot == GONE) {
      if (firstGone < 0) firstGone = <i32>i;
    } else if (load<u32>(at(keySpace, i)) == space && load<u32>(at(keyPage, i)) == page) return <i32>i;
    i = (i + 1) & (TABLE - 1);
  }
  return forInsert ? firstGone : -1;
}

/** Answers a request: `status` (0: done), and for a page-in the seal words and the Region. */
function done(request: i32, status: i32, slot: u32, region: i32): void {
  msgBegin(OP_PAGER_DONE);
  msgAddWord(<u32>(status < 0 ? -status : status));
  if (region != 0) {
    for (let w: u32 = 0; w < SEAL_WORDS; w++) msgAddWord(load<u32>(seals + (<usize>(slot * SEAL_WORDS + w) << 2)));
    msgAddCap(<u32>region | CAP_MOVE);
  }
  msgInvoke(request); // a request nobody waits for any more (its process ended) answers an error; nothing to do
}

/** Calls the file system on /swap with `label` at `slot`, moving `region`; the reply's status. Any capability that comes back is dropped unless `keep`. */
function swapCall(label: u32, slot: u32, region: i32, keep: bool): i32 {
  const offset = <u64>slot * PAGE;
  msgBegin(label);
  msgAddWord(<u32>offset);
  msgAddWord(<u32>(offset >>> 32));
  msgAddWord(PAGE);
  msgAddWord(0);
  msgAddCap(<u32>region | CAP_MOVE);
  const status = msgInvoke(swap);
  if (status < 0) return status;
  const answer = fsStatus(msgLabel());
  if (!keep) for (let i = 0; i < msgCapCount(); i++) capDrop(msgCap(i));
  return answer;
}

function pageOut(space: u32, page: u32, region: i32, request: i32): void {
  let index = find(space, page, false);
  let slot: u32;
  if (index >= 0) slot = load<u32>(at(slotOf, <u32>index));
  else {
    index = find(space, page, true);
    if (index < 0 || freeCount == 0) {
      capDrop(region);
      done(request, E_QUOTA, 0, 0);
      return;
    }
    freeCount--;
    slot = load<u32>(at(freeSlots, freeCount));
    store<u32>(at(keySpace, <u32>index), space);
    store<u32>(at(keyPage, <u32>index), page);
    store<u32>(at(slotOf, <u32>index), slot);
  }
  // Seal words of this version of the page (the kernel checks them when it comes back).
  for (let w: u32 = 0; w < SEAL_WORDS; w++) store<u32>(seals + (<usize>(slot * SEAL_WORDS + w) << 2), sealWords[w]);
  msgBegin(OP_REGION_VIEW);
  let status = msgInvoke(region);
  if (status >= 0) status = swapCall(FS_WRITE, slot, msgCap(0), false);
  msgBegin(OP_REGION_FREE); // the ciphertext's frame goes back now: the page is on the disk
  msgInvoke(region);
  if (status >= 0) pagesOut++;
  done(request, status < 0 ? status : 0, slot, 0);
}

function pageIn(space: u32, page: u32, request: i32): void {
  const index = find(space, page, false);
  if (index < 0) {
    done(request, E_INVALID_ARGUMENT, 0, 0); // never stored here: the kernel ends the process
    return;
  }
  const slot = load<u32>(at(slotOf, <u32>index));
  const region = new Memory(MEMORY).createRegion(1);
  if (region < 0) {
    done(request, region, 0, 0);
    return;
  }
  const status = swapCall(FS_READ, slot, region, true);
  const back = msgCapCount() > 0 ? msgCap(0) : 0; // the Region, filled
  if (status < 0 || back == 0) {
    if (back != 0) capDrop(back);
    done(request, status < 0 ? status : E_INVALID_ARGUMENT, 0, 0);
    return;
  }
  // The slot is free again: the kernel keeps the page in memory until it evicts it once more.
  store<u32>(at(slotOf, <u32>index), GONE);
  store<u32>(at(freeSlots, freeCount), slot);
  freeCount++;
  done(request, 0, slot, back);
  pagesIn++;
  if (pagesIn % PROGRESS == 0) {
    lineBegin("pager: ");
    lineAddU32(pagesOut);
    lineAdd(" pages stored, ");
    lineAddU32(pagesIn);
    lineAdd(" given back");
    linePrint();
  }
}

for (;;) {
  msgBegin(OP_RECEIVER_RECEIVE);
  const received = msgInvoke(CHANNEL);
  if (received < 0) {
    eprint("pager: receive: " + errorName(received));
    exit(1);
  }
  const label = msgLabel();
  const space = msgWord(0);
  const page = msgWord(1);
  if (label == MSG_PAGE_OUT && msgCapCount() >= 2) {
    for (let w: u32 = 0; w < SEAL_WORDS; w++) sealWords[w] = msgWord(2 + <i32>w);
    pageOut(space, page, msgCap(0), msgCap(1));
  } else if (label == MSG_PAGE_IN && msgCapCount() >= 1) {
    pageIn(space, page, msgCap(0));
  } else {
    for (let i = 0; i < msgCapCount(); i++) capDrop(msgCap(i));
  }
}
