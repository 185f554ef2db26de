// The pager (docs/MEMORY.md "The pager protocol"): the kernel's page I/O, done in user space on a
// swap file of the file system. It only ever sees ciphertext: the kernel encrypts and
// authenticates each page, keeps the nonce and tag, and checks what comes back, so this process is
// trusted with nothing but service.
// Config:
//   service pager pager memory=1024 use=fs pager=16384 control pin=2
// Slots: 2 the registry, 3 a Memory (its buffers, the Regions of page-ins), 4 the Cappage the file
// system publishes its root in, 5 the paging channel's receive capability (init makes it), 6 a call
// capability to init's control Receiver: once everything below is in place — /swap open — the
// pager says READY there, and init tells the kernel to page through the channel. Paging before
// that could leave the pager waiting for frames only it could free. pin=2: a paged-out pager could
// never page itself back in; the file system and the block driver it needs must be pinned too.
//
// The kernel chooses each page's slot, so the pager keeps no table: PAGE_OUT (space, page, slot)
// brings a Region holding the ciphertext and a one-shot request; PAGE_IN (space, page, slot) brings
// a request, answered with a new Region holding what the slot holds. /swap is opened FS_OPEN_DIRECT
// (its pages are out because memory is short: the file system must not cache them) and attached
// (FS_ATTACH: reads and writes move no Region, only bytes).
// - Page-outs of consecutive slots (the kernel hands slots out in order, so evictions mostly make
//   runs) are gathered, up to BATCH, into the buffer and written in one call; each page's Region
//   is freed as soon as it is copied (its frame goes back), its answer waits for the write.
// - A page-in of the slot after the last page-in's reads it and the AHEAD - 1 after it in one call
//   (read-ahead: pages evicted together were evicted in order, and come back in order), and keeps
//   them; the next page-ins of those slots are answered from here without a call. A page-out to a
//   slot drops what was read ahead of it (the kernel never asks for a slot before its page-out is
//   answered, so what is kept is never older than what the slot holds).
// A pager that ends is restarted by init on the same channel and serves the same slots of the same
// file (it never truncates /swap): the kernel asks again for the page-ins the old one dropped.
// Nothing allocates in the loop: it runs for ever on the stub runtime.
import {
  eprint, print, errorName, exit, Process, msgAddTimeout, E_TIMEOUT, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel,
  msgWord, msgCap, msgCapCount, capDrop, CAP_MOVE, MSG_PAGE_OUT, MSG_PAGE_IN, OP_PAGER_DONE, OP_RECEIVER_RECEIVE,
  OP_REGION_FREE, OP_REGION_INFO, OP_MEMORY_CREATE_REGION, E_INVALID_ARGUMENT, lineBegin, lineAdd, lineAddU32, linePrint,
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
/** Page-outs written in one call at most. */
const BATCH: u32 = 32;
/** Slots one page-in reads at most (the attached read buffer is the client buffer's size: BATCH + AHEAD pages). */
const AHEAD: u32 = 64;
/** Pages stored and given back, for the progress line every PROGRESS page-ins. */
let pagesOut: u32 = 0;
let pagesIn: u32 = 0;
/** Page-ins answered from what was read ahead; calls to the file system that wrote and read. */
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
// The buffer: page-outs gathered at [0, BATCH), slots read ahead at [BATCH, BATCH + AHEAD).
const fs = new FsClient(MEMORY, BATCH + AHEAD);
const prepared = fs.prepare();
if (prepared < 0) fail("make its buffer", prepared);
const root = fsRoot(FS_ROOTS);
if (root < 0) {
  // A machine without a disk has no file system: nothing to page to, and nothing to retry.
  print("pager: no file system, so no swap file: not paging");
  exit(0);
}
// Never truncated: a restarted pager must find the pages its predecessor stored.
const opened = fs.open(root, "swap", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_DIRECT);
if (opened < 0) fail("open /swap", opened);
// Attached when the server can (else every call moves a Region: slower, the same bytes).
const attached = fs.attach(opened);
const swap = attached >= 0 ? attached : opened;
const AHEAD_AT: usize = fs.address + (<usize>BATCH << 12);
// Ready: pinned, it never waits for a page-in itself.
msgBegin(CONTROL_PAGER_READY);
const ready = msgInvoke(CONTROL);
if (ready < 0 || msgLabel() != 0) fail("tell init it is ready", ready < 0 ? ready : -<i32>msgLabel());
print("pager: paging to /swap, up to " + SLOTS.toString() + " slots of 4 KiB");

/** Answers a request: `status` (0: done), and for a page-in the Region holding the page. */
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

// ---- Read-ahead ------------------------------------------------------------------------------
// Slots [aheadFirst, aheadFirst + AHEAD) as read last; aheadValid bit i: slot aheadFirst + i is here.
let aheadFirst: u32 = 0;
let aheadValid: u64 = 0;

/** A page-out is about to change `slot`: what was read ahead of it is old now. */
function forgetAhead(slot: u32): void {
  if (slot >= aheadFirst && slot < aheadFirst + AHEAD) aheadValid &= ~(<u64>1 << <u64>(slot - aheadFirst));
}

/** The slot of the last page-in: one next to it is read with its neighbours. */
let lastIn: u32 = 0xfffffff0;

/**
 * Reads `slot` into the read-ahead buffer, with the slots after it (up to AHEAD, not past SLOTS)
 * when the page-ins go up from slot to slot, or before it when they go down (the kernel hands
 * slots out from a stack, so a burst of evictions takes them in descending order); a page-in out
 * of order reads its slot alone. 0 or a status.
 */
function readAhead(slot: u32, previous: u32): i32 {
  let first = slot;
  let count: u32 = 1;
  if (slot == previous + 1) count = min(AHEAD, SLOTS - slot);
  else if (slot + 1 == previous) {
    first = slot >= AHEAD - 1 ? slot - (AHEAD - 1) : 0;
    count = slot - first + 1;
  }
  aheadValid = 0;
  reads++;
  const n = fs.read(swap, <u64>first * PAGE, count * PAGE, BATCH << 12);
  if (n < 0) return n;
  aheadFirst = first;
  const pages = <u32>n / PAGE; // a slot past the end of the file was never stored
  aheadValid = pages >= 64 ? 0xffffffffffffffff : (<u64>1 << <u64>pages) - 1;
  return 0;
}

function pageIn(slot: u32, request: i32): void {
  if (slot >= SLOTS) {
    done(request, E_INVALID_ARGUMENT, 0);
    return;
  }
  const held = slot >= aheadFirst && slot < aheadFirst + AHEAD && (aheadValid & (<u64>1 << <u64>(slot - aheadFirst))) != 0;
  const previous = lastIn;
  lastIn = slot;
  if (held) pagesAhead++;
  else {
    const status = readAhead(slot, previous);
    if (status < 0 || (aheadValid & (<u64>1 << <u64>(slot - aheadFirst))) == 0) {
      done(request, status < 0 ? status : E_INVALID_ARGUMENT, 0);
      return;
    }
  }
  msgBegin(OP_MEMORY_CREATE_REGION);
  msgAddWord(1);
  msgAddWord(0);
  const made = msgInvoke(MEMORY);
  const region = made < 0 ? made : msgCap(0);
  const at: usize = region < 0 ? 0 : addressOf(region);
  if (at == 0) {
    if (region > 0) capDrop(region);
    done(request, region < 0 ? region : E_INVALID_ARGUMENT, 0);
    return;
  }
  memory.copy(at, AHEAD_AT + (<usize>(slot - aheadFirst) << 12), PAGE);
  // Given back once: the kernel never asks for it again before a page-out to it.
  aheadValid &= ~(<u64>1 << <u64>(slot - aheadFirst));
  done(request, 0, region);
  pagesIn++;
  if (pagesIn % PROGRESS == 0) {
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
}

// ---- Page-outs -------------------------------------------------------------------------------
// A batch: a run of consecutive slots, their ciphertext copied into the buffer in slot order (their
// Regions freed at once) and their requests kept until the batch is written. The kernel hands
// slots out from a stack, so a burst of evictions takes them in descending order: a run grows up
// (its pages from the buffer's start) or down (from its end). Page-outs often come a burst at a
// time between page-ins, so a batch stays open across page-ins and is written when it is full,
// when a page-out for a slot outside its run comes, or when no message comes for FLUSH_NS. The
// kernel keeps each page's ciphertext until its page-out is answered, and never asks for that
// slot before.
const FLUSH_NS: i64 = 1_000_000;
const batchRequests = new StaticArray<i32>(<i32>BATCH);
/** The run's first slot (its lowest when it grows down), its length and direction. */
let batchFirst: u32 = 0;
let batchCount: u32 = 0;
let batchDown = false;
let batchStatus: i32 = 0;

/** Where in the buffer the page of the run's `i`th slot (in the order they came) goes. */
function batchPlace(i: u32): usize {
  return fs.address + (<usize>(batchDown ? BATCH - 1 - i : i) << 12);
}

/** Adds a page-out to the open batch (writing the batch first if the slot does not extend its run). */
function pageOut(slot: u32, region: i32, request: i32): void {
  if (batchCount == 1 && slot + 1 == batchFirst) {
    // The run goes down: its first page moves to the buffer's end.
    batchDown = true;
    memory.copy(batchPlace(0), fs.address, PAGE);
  }
  const next = batchDown ? batchFirst - batchCount : batchFirst + batchCount;
  if (batchCount > 0 && (slot != next || batchCount == BATCH)) writeBatch();
  if (batchCount == 0) {
    batchFirst = slot;
    batchDown = false;
    batchStatus = 0;
  }
  forgetAhead(slot);
  if (slot >= SLOTS) batchStatus = E_INVALID_ARGUMENT;
  const address = batchStatus < 0 ? 0 : addressOf(region);
  if (address == 0) batchStatus = E_INVALID_ARGUMENT;
  else memory.copy(batchPlace(batchCount), address, PAGE);
  msgBegin(OP_REGION_FREE); // copied: the ciphertext's frame goes back now
  msgInvoke(region);
  unchecked((batchRequests[batchCount++] = request));
}

/** Writes the open batch in one call and answers its page-outs. */
function writeBatch(): void {
  if (batchCount == 0) return;
  let status = batchStatus;
  if (status >= 0) {
    writes++;
    const lowest = batchDown ? batchFirst + 1 - batchCount : batchFirst;
    const at = batchDown ? (BATCH - batchCount) << 12 : 0;
    const n = fs.write(swap, <u64>lowest * PAGE, batchCount * PAGE, at);
    status = n < 0 ? n : <u32>n == batchCount * PAGE ? 0 : E_INVALID_ARGUMENT;
  }
  if (status >= 0) pagesOut += batchCount;
  for (let i: u32 = 0; i < batchCount; i++) done(unchecked(batchRequests[i]), status < 0 ? status : 0, 0);
  batchCount = 0;
}

// ---- The loop --------------------------------------------------------------------------------
// The message being handled, copied out of the buffer (the next receive overwrites it). Words:
// space, page, slot; only the slot matters here: the kernel checks whose page comes back.
let label: u32 = 0;
let slot: u32 = 0;
let caps: i32 = 0;
const cap = new StaticArray<i32>(4);

/** Receives the next message into label, slot and cap, waiting at most `ns` (-1: for ever); false when none came. */
function receiveNext(ns: i64): bool {
  msgBegin(OP_RECEIVER_RECEIVE);
  if (ns >= 0) msgAddTimeout(<u64>ns);
  const received = msgInvoke(CHANNEL);
  if (received == E_TIMEOUT && ns >= 0) return false;
  if (received < 0) {
    eprint("pager: receive: " + errorName(received));
    exit(1);
  }
  label = msgLabel();
  slot = msgWord(2);
  caps = min(msgCapCount(), 4);
  for (let i = 0; i < caps; i++) cap[i] = msgCap(i);
  return true;
}

for (;;) {
  if (!receiveNext(batchCount > 0 ? FLUSH_NS : -1)) {
    writeBatch(); // quiet: what waits goes now
    continue;
  }
  if (label == MSG_PAGE_OUT && caps >= 2) pageOut(slot, cap[0], cap[1]);
  else if (label == MSG_PAGE_IN && caps >= 1) pageIn(slot, cap[0]);
  else for (let i = 0; i < caps; i++) capDrop(cap[i]);
}
