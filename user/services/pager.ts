// The pager (docs/MEMORY.md "The pager protocol"): the kernel's page I/O, done in user space on a
// swap file of the file system. It only ever sees ciphertext: the kernel encrypts and
// authenticates each page, keeps the nonce and tag, and checks what comes back, so this process is
// trusted with nothing but service.
// Config:
//   service pager pager memory=1024 use=fs pager=16384 control pin=2
// Slots: 2 the registry, 3 a Memory (its buffers, the Regions of page-ins), 4 the Cappage the file
// system publishes in, narrowed to its swap door (its manifest's `needs fs FileSystem shared swap`,
// init's `swap=fs`: a root through which only /swap opens, in a session of its own; docs/FS.md
// "Who gets the root"; with `use=fs`, the root with every right, and a session is taken through
// it), 5 the paging channel's receive capability (init makes it), 6 a call
// capability to init's control Receiver: once everything below is in place — /swap open — the
// pager says READY there, with the most pages it takes in one message (BATCH), and init tells the
// kernel to page through the channel. Paging before that could leave the pager waiting for frames
// only it could free. pin=2: a paged-out pager could never page itself back in; the file system
// and the block driver it needs must be pinned too.
//
// The kernel chooses each page's slot, so the pager keeps no table. A message names up to BATCH
// pages, three words each (space, page, slot; only the slot matters here):
// - PAGE_OUT brings one Region holding their ciphertext (page i the i-th slot's, slots in
//   ascending order) and one request: each run of consecutive slots is written in one call, the
//   Region freed, and the request answered once all are stored.
// - PAGE_IN brings one request for the slots named (the page a process waits for, then neighbours
//   the kernel reads with it), answered with one new Region whose page i holds slot i, or fewer
//   pages (a prefix) when a slot cannot be read. The slots are read a window of WINDOW at a time,
//   placed to cover the request and go on in its direction (pages evicted together come back
//   together), and kept: the next page-ins of those slots are copied from the window without a call.
//   A page-out to a slot drops what was read of it (the kernel never asks for a slot before its
//   page-out is answered, so what is kept is never older than what the slot holds), and so does
//   giving it back: a page that went out clean to its kept slot is read again from the file.
// /swap is opened FS_OPEN_DIRECT (its pages are out because memory is short: the file system must
// not cache them) and attached (FS_ATTACH: reads and writes move no Region, only bytes; a read is
// used where the server put it, FsClient.readView, with no copy into this process's buffer).
// A pager that ends is restarted by init on the same channel and serves the same slots of the same
// file (it never truncates /swap): the kernel asks again for the page-ins the old one dropped.
// Nothing allocates in the loop: it runs for ever on the stub runtime.
import {
  eprint, print, errorName, exit, Process, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgWord, msgWordCount,
  msgCap, msgCapCount, capDrop, CAP_MOVE, MSG_PAGE_OUT, MSG_PAGE_IN, OP_PAGER_DONE, OP_RECEIVER_RECEIVE, OP_REGION_FREE,
  OP_REGION_INFO, OP_MEMORY_CREATE_REGION, E_INVALID_ARGUMENT, PAGER_BATCH_MAX, lineBegin, lineAdd, lineAddU32, linePrint,
} from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_DIRECT,
} from "../lib/fs-client";

const MEMORY: i32 = 3;
const FS_ROOTS: i32 = 4;
const CHANNEL: i32 = 5;
const CONTROL: i32 = 6;
const CONTROL_PAGER_READY: u32 = 2;
const PAGE: u32 = 4096;
/** Slots of /swap (128 MiB): the store init announces must not be larger. */
const SLOTS: u32 = 32768;
/** Pages one message names at most: the kernel's most. */
const BATCH: u32 = PAGER_BATCH_MAX;
/** Slots one read takes at most (a u64 says which of them are held). */
const WINDOW: u32 = 64;
/** Pages stored and given back, for the progress line every PROGRESS page-ins. */
let pagesOut: u32 = 0;
let pagesIn: u32 = 0;
/** Page-ins answered from what an earlier read brought; calls to the file system that wrote and read. */
let pagesAhead: u32 = 0;
let writes: u32 = 0;
let reads: u32 = 0;
const PROGRESS: u32 = 4096;

function fail(what: string, status: i32): void {
  eprint("pager: " + what + ": " + fsErrorName(status));
  exit(1);
}

const listening = Process.self().listen(true); // PAGE_OUT and PAGE_IN bring capabilities
if (listening < 0) fail("listen", listening);
// The buffer: a page-out's runs are copied to OUT_AT and written from there; reads land at its
// start when /swap could not be attached (an attached handle's read buffer is the client
// buffer's size, and only reads write it).
const fs = new FsClient(MEMORY, WINDOW + BATCH);
const OUT_AT: u32 = WINDOW << 12;
const prepared = fs.prepare();
if (prepared < 0) fail("make its buffer", prepared);
const root = fsRoot(FS_ROOTS);
if (root < 0) {
  // A machine without a disk has no file system: nothing to page to, and nothing to retry.
  print("pager: no file system, so no swap file: not paging");
  exit(0);
}
// A session of its own (docs/FS.md "Sessions"): a client holding the rest of the handle table
// cannot keep the pager from its swap file (the published root's session is everyone's).
const session = fs.session(root, FS_RIGHT_READ | FS_RIGHT_WRITE);
// Never truncated: a restarted pager must find the pages its predecessor stored.
const opened = fs.open(session >= 0 ? session : root, "swap", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_DIRECT);
if (opened < 0) fail("open /swap", opened);
// Attached when the server can (else every call moves a Region: slower, the same bytes).
const attached = fs.attach(opened);
const swap = attached >= 0 ? attached : opened;
// Said before init hears it is ready: init then starts the shell, whose prompt this line would
// otherwise come after, or in the middle of what is typed at it, as the scheduler had it.
print("pager: paging to /swap, up to " + SLOTS.toString() + " slots of 4 KiB");
// Ready: pinned, it never waits for a page-in itself. The word: the pages a message may carry.
msgBegin(CONTROL_PAGER_READY);
msgAddWord(BATCH);
const ready = msgInvoke(CONTROL);
if (ready < 0 || msgLabel() != 0) fail("tell init it is ready", ready < 0 ? ready : -<i32>msgLabel());

/** Answers a request: `status` (0: done), and for a page-in the Region holding the pages. */
function done(request: i32, status: i32, region: i32): void {
  msgBegin(OP_PAGER_DONE);
  msgAddWord(<u32>(status < 0 ? -status : status));
  if (region != 0) msgAddCap(<u32>region | CAP_MOVE);
  msgInvoke(request); // a request nobody waits for any more (its process ended) answers an error; nothing to do
}

/** Where `region` (a capability) is mapped here, or 0. */
function addressOf(region: i32): usize {
  msgBegin(OP_REGION_INFO);
  return msgInvoke(region) < 0 ? 0 : <usize>msgWord(0);
}

/** A new Region of `pages` pages of this pager's Memory (its capability), or a status. */
function newRegion(pages: u32): i32 {
  msgBegin(OP_MEMORY_CREATE_REGION);
  msgAddWord(pages);
  msgAddWord(0);
  const made = msgInvoke(MEMORY);
  return made < 0 ? made : msgCap(0);
}

// ---- The message being handled, copied out of the buffer (every call overwrites it) ----------
let label: u32 = 0;
let count: u32 = 0;
const slots = new StaticArray<u32>(<i32>BATCH);
let caps: i32 = 0;
const cap = new StaticArray<i32>(4);

// ---- Reads -----------------------------------------------------------------------------------
// Slots [windowFirst, windowFirst + WINDOW) as read last, at windowAt (the attached handle's read
// buffer); windowValid bit i: slot windowFirst + i is held there and not yet given back.
let windowFirst: u32 = 0;
let windowValid: u64 = 0;
let windowAt: usize = 0;

function held(slot: u32): bool {
  return slot >= windowFirst && slot < windowFirst + WINDOW && (windowValid & (<u64>1 << <u64>(slot - windowFirst))) != 0;
}

/** A page-out is about to change `slot`: what was read of it is old now. */
function forget(slot: u32): void {
  if (slot >= windowFirst && slot < windowFirst + WINDOW) windowValid &= ~(<u64>1 << <u64>(slot - windowFirst));
}

/** The slot of the last page-in: a lone page-in next to it reads on in that direction. */
let lastIn: u32 = 0xfffffff0;

/**
 * Reads the window for the request's slot `i` (not held): it covers that slot and as many of
 * the request's later ones as fit, and goes on past them in the direction they go (down when the
 * request's last slot is below its first: the kernel hands slots out from a stack, so a burst of
 * evictions takes them in descending order). A lone page-in next to the last one reads on in its
 * direction; one out of order reads its slot alone. 0 or a status.
 */
function readWindow(i: u32): i32 {
  const slot = unchecked(slots[i]);
  let low = slot;
  let high = slot;
  for (let j = i + 1; j < count; j++) {
    const other = unchecked(slots[j]);
    if (other < low && high - other < WINDOW) low = other;
    else if (other > high && other - low < WINDOW) high = other;
  }
  let down = count > 1 && unchecked(slots[count - 1]) < unchecked(slots[0]);
  let pages = WINDOW;
  if (count == 1) {
    down = slot + 1 == lastIn;
    if (!down && slot != lastIn + 1) pages = 1;
  }
  let first = down ? (high >= WINDOW - 1 ? high - (WINDOW - 1) : 0) : low;
  if (pages == 1) first = slot;
  pages = min(pages, SLOTS - first);
  windowValid = 0;
  reads++;
  const n = attached >= 0 ? fs.readView(swap, <u64>first * PAGE, pages * PAGE) : fs.read(swap, <u64>first * PAGE, pages * PAGE, 0);
  if (n < 0) return n;
  windowFirst = first;
  windowAt = attached >= 0 ? fs.viewAddress : fs.address;
  const got = <u32>n / PAGE; // a slot past the end of the file was never stored
  windowValid = got >= 64 ? 0xffffffffffffffff : (<u64>1 << <u64>got) - 1;
  return 0;
}

/**
 * Answers a page-in of the `count` slots: a Region whose page i holds slot i, for as many slots
 * from the first as can be read (none: the request fails).
 */
function pageIn(request: i32): void {
  const region = newRegion(count);
  const at: usize = region < 0 ? 0 : addressOf(region);
  if (at == 0) {
    if (region > 0) capDrop(region);
    done(request, region < 0 ? region : E_INVALID_ARGUMENT, 0);
    return;
  }
  let answered: u32 = 0;
  let status: i32 = 0;
  for (; answered < count; answered++) {
    const slot = unchecked(slots[answered]);
    if (slot >= SLOTS) {
      status = E_INVALID_ARGUMENT;
      break;
    }
    if (held(slot)) pagesAhead++;
    else {
      status = readWindow(answered);
      if (status == 0 && !held(slot)) status = E_INVALID_ARGUMENT;
      if (status < 0) break;
    }
    memory.copy(at + (<usize>answered << 12), windowAt + (<usize>(slot - windowFirst) << 12), PAGE);
    // Given back: the kernel asks for it again only after it went out clean (its kept slot, which
    // the file still holds), and that is read again from the file.
    windowValid &= ~(<u64>1 << <u64>(slot - windowFirst));
  }
  lastIn = unchecked(slots[count - 1]);
  if (answered == 0) {
    capDrop(region);
    done(request, status, 0);
    return;
  }
  done(request, 0, answered == count ? region : shorter(region, at, answered));
  pagesIn += answered;
  if (pagesIn % PROGRESS < answered) progress();
}

/** A Region of the first `pages` pages of `region` (at `at`), which goes; 0 when none could be made. */
function shorter(region: i32, at: usize, pages: u32): i32 {
  const made = newRegion(pages);
  const to: usize = made < 0 ? 0 : addressOf(made);
  if (to != 0) memory.copy(to, at, <usize>pages << 12);
  else if (made > 0) capDrop(made);
  capDrop(region);
  return to != 0 ? made : 0;
}

function progress(): void {
  lineBegin("pager: ");
  lineAddU32(pagesOut);
  lineAdd(" pages stored, ");
  lineAddU32(pagesIn);
  lineAdd(" given back (");
  lineAddU32(pagesAhead);
  lineAdd(" of them read ahead); ");
  lineAddU32(writes);
  lineAdd(" writes, ");
  lineAddU32(reads);
  lineAdd(" reads");
  linePrint();
}

// ---- Page-outs -------------------------------------------------------------------------------
/** Stores the `count` pages of `region` at their slots, one write a run of consecutive slots, and answers. */
function pageOut(region: i32, request: i32): void {
  const at = addressOf(region);
  let status: i32 = at == 0 ? E_INVALID_ARGUMENT : 0;
  for (let i: u32 = 0; i < count; i++) {
    forget(unchecked(slots[i]));
    if (unchecked(slots[i]) >= SLOTS) status = E_INVALID_ARGUMENT;
  }
  let first: u32 = 0;
  while (status == 0 && first < count) {
    let end = first + 1;
    while (end < count && unchecked(slots[end]) == unchecked(slots[end - 1]) + 1) end++;
    const bytes = (end - first) * PAGE;
    memory.copy(fs.address + OUT_AT, at + (<usize>first << 12), bytes);
    writes++;
    const n = fs.write(swap, <u64>unchecked(slots[first]) * PAGE, bytes, OUT_AT);
    status = n < 0 ? n : <u32>n == bytes ? 0 : E_INVALID_ARGUMENT;
    first = end;
  }
  msgBegin(OP_REGION_FREE); // stored (or not): the ciphertext's frames go back now
  msgInvoke(region);
  if (status == 0) pagesOut += count;
  done(request, status, 0);
}

// ---- The loop --------------------------------------------------------------------------------
/** Receives the next message into label, count, slots and cap. */
function receiveNext(): void {
  msgBegin(OP_RECEIVER_RECEIVE);
  const received = msgInvoke(CHANNEL);
  if (received < 0) {
    eprint("pager: receive: " + errorName(received));
    exit(1);
  }
  label = msgLabel();
  const words = <u32>msgWordCount();
  count = words % 3 == 0 ? min(words / 3, BATCH) : 0;
  for (let i: u32 = 0; i < count; i++) unchecked((slots[i] = msgWord(<i32>(3 * i + 2))));
  caps = min(msgCapCount(), 4);
  for (let i = 0; i < caps; i++) cap[i] = msgCap(i);
}

for (;;) {
  receiveNext();
  if (label == MSG_PAGE_OUT && caps >= 2 && count > 0) pageOut(cap[0], cap[1]);
  else if (label == MSG_PAGE_IN && caps >= 1 && count > 0) pageIn(cap[0]);
  else for (let i = 0; i < caps; i++) capDrop(cap[i]);
}
