// The pager (docs/MEMORY.md "The pager protocol"): the kernel's page I/O, done in user space on a
// swap file of the file system. It only ever sees ciphertext: the kernel encrypts and
// authenticates each page, keeps the nonce and tag, and checks what comes back, so this process is
// trusted with nothing but service.
// Config:
//   service pager pager memory=1024 use=fs pager=16384 control pin=2
// Slots: 2 the registry, 3 a Memory (the Regions of page-ins), 4 the Cappage the file system
// publishes its root in, 5 the paging channel's receive capability (init makes it), 6 a call
// capability to init's control Receiver: once everything below is in place — /swap open — the
// pager says READY there, and init tells the kernel to page through the channel. Paging before
// that could leave the pager waiting for frames only it could free. pin=2: a paged-out pager could
// never page itself back in; the file system and the block driver it needs must be pinned too.
//
// The kernel chooses each page's slot, so the pager keeps no table: PAGE_OUT (space, page, slot)
// brings a Region holding the ciphertext and a one-shot request; the page goes to the slot of
// /swap, the Region is freed (so its frame goes back), and the request is answered. PAGE_IN
// (space, page, slot) brings a request: the slot is read into a new Region, which goes back. A
// pager that ends is restarted by init on the same channel and serves the same slots of the same
// file (it never truncates /swap): the kernel asks again for the page-ins the old one dropped.
import {
  eprint, print, errorName, exit, Process, Memory, Region, msgAddTimeout, E_TIMEOUT, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgWord,
  msgCap, msgCapCount, capDrop, CAP_MOVE, MSG_PAGE_OUT, MSG_PAGE_IN, OP_PAGER_DONE, OP_RECEIVER_RECEIVE, OP_REGION_VIEW,
  OP_REGION_FREE, E_INVALID_ARGUMENT, lineBegin, lineAdd, lineAddU32, linePrint,
} from "../lib";
import {
  FsClient, fsRoot, fsErrorName, fsStatus, FS_READ, FS_WRITE, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE,
} from "../lib/fs-client";

const MEMORY: i32 = 3;
const FS_ROOTS: i32 = 4;
const CHANNEL: i32 = 5;
const CONTROL: i32 = 6;
const CONTROL_PAGER_READY: u32 = 2;
const PAGE: u32 = 4096;
/** Slots of /swap (128 MiB): the store init announces must not be larger. */
const SLOTS: u32 = 32768;
/** Pages stored and given back, for the progress line every PROGRESS page-ins. */
let pagesOut: u32 = 0;
let pagesIn: u32 = 0;
const PROGRESS: u32 = 4096;

function fail(what: string, status: i32): void {
  eprint("pager: " + what + ": " + fsErrorName(status));
  exit(1);
}

const listening = Process.self().listen(true); // PAGE_OUT and PAGE_IN bring capabilities
if (listening < 0) fail("listen", listening);
const fs = new FsClient(MEMORY, 1);
const root = fsRoot(FS_ROOTS);
if (root < 0) {
  // A machine without a disk has no file system: nothing to page to, and nothing to retry.
  print("pager: no file system, so no swap file: not paging");
  exit(0);
}
// Never truncated: a restarted pager must find the pages its predecessor stored.
const swap = fs.open(root, "swap", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE);
if (swap < 0) fail("open /swap", swap);
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

/** Calls the file system on /swap with `label` at `slot`, moving `region`; the reply's status. Any capability that comes back is dropped unless `keep`. */
function swapCall(label: u32, slot: u32, region: i32, keep: bool, pages: u32 = 1): i32 {
  const offset = <u64>slot * PAGE;
  msgBegin(label);
  msgAddWord(<u32>offset);
  msgAddWord(<u32>(offset >>> 32));
  msgAddWord(pages * PAGE);
  msgAddWord(0);
  msgAddCap(<u32>region | CAP_MOVE);
  const status = msgInvoke(swap);
  if (status < 0) return status;
  const answer = fsStatus(msgLabel());
  if (!keep) for (let i = 0; i < msgCapCount(); i++) capDrop(msgCap(i));
  return answer;
}

function pageOut(slot: u32, region: i32, request: i32): void {
  if (slot >= SLOTS) {
    capDrop(region);
    done(request, E_INVALID_ARGUMENT, 0);
    return;
  }
  msgBegin(OP_REGION_VIEW);
  let status = msgInvoke(region);
  if (status >= 0) status = swapCall(FS_WRITE, slot, msgCap(0), false);
  msgBegin(OP_REGION_FREE); // the ciphertext's frame goes back now: the page is on the disk
  msgInvoke(region);
  if (status >= 0) pagesOut++;
  done(request, status < 0 ? status : 0, 0);
}

// Page-outs of consecutive slots (the kernel hands slots out in order, so a burst of evictions
// mostly is one run) go to /swap in one write of up to BATCH pages: one file system call, not one
// a page. Their ciphertext is copied into the batch Region, whose view the write takes.
const BATCH: u32 = 16;
const batchSlots = new StaticArray<u32>(<i32>BATCH);
const batchRegions = new StaticArray<i32>(<i32>BATCH);
const batchRequests = new StaticArray<i32>(<i32>BATCH);
const batchRegion = new Memory(MEMORY).createRegion(BATCH);
if (batchRegion < 0) fail("create the batch Region", batchRegion);
const batchAddress: usize = <usize>new Region(batchRegion).info().address;

/** Writes the gathered page-outs (`count`, consecutive slots from batchSlots[0]) and answers them. */
function pageOutBatch(count: u32): void {
  if (count == 1) {
    pageOut(batchSlots[0], batchRegions[0], batchRequests[0]);
    return;
  }
  let status: i32 = batchSlots[0] + count > SLOTS ? E_INVALID_ARGUMENT : 0;
  for (let i: u32 = 0; i < count; i++) {
    const region = batchRegions[i];
    if (status >= 0) {
      const address = <usize>new Region(region).info().address;
      if (address == 0) status = E_INVALID_ARGUMENT;
      else memory.copy(batchAddress + (<usize>i << 12), address, PAGE);
    }
    msgBegin(OP_REGION_FREE); // copied: the ciphertext's frame goes back now
    msgInvoke(region);
  }
  if (status >= 0) {
    msgBegin(OP_REGION_VIEW);
    status = msgInvoke(batchRegion);
    if (status >= 0) status = swapCall(FS_WRITE, batchSlots[0], msgCap(0), false, count);
  }
  if (status >= 0) pagesOut += count;
  for (let i: u32 = 0; i < count; i++) done(batchRequests[i], status < 0 ? status : 0, 0);
}

function pageIn(slot: u32, request: i32): void {
  if (slot >= SLOTS) {
    done(request, E_INVALID_ARGUMENT, 0);
    return;
  }
  const region = new Memory(MEMORY).createRegion(1);
  if (region < 0) {
    done(request, region, 0);
    return;
  }
  const status = swapCall(FS_READ, slot, region, true);
  const back = msgCapCount() > 0 ? msgCap(0) : 0; // the Region, filled
  if (status < 0 || back == 0) {
    if (back != 0) capDrop(back);
    done(request, status < 0 ? status : E_INVALID_ARGUMENT, 0);
    return;
  }
  done(request, 0, back);
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

// The message being handled, copied out of the buffer (the next receive overwrites it). Words:
// space, page, slot; only the slot matters here: the kernel checks whose page comes back.
let label: u32 = 0;
let slot: u32 = 0;
let caps: i32 = 0;
const cap = new StaticArray<i32>(4);
/** A message received while gathering a batch that did not belong to it: handled next. */
let pending = false;

/** Receives the next message into label, slot and cap (`wait`: block for it); false when none came. */
function receiveNext(wait: bool): bool {
  msgBegin(OP_RECEIVER_RECEIVE);
  if (!wait) msgAddTimeout(0);
  const received = msgInvoke(CHANNEL);
  if (received == E_TIMEOUT && !wait) return false;
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
  if (!pending) receiveNext(true);
  pending = false;
  if (label == MSG_PAGE_OUT && caps >= 2) {
    batchSlots[0] = slot;
    batchRegions[0] = cap[0];
    batchRequests[0] = cap[1];
    let count: u32 = 1;
    while (count < BATCH && receiveNext(false)) {
      if (label == MSG_PAGE_OUT && caps >= 2 && slot == batchSlots[count - 1] + 1) {
        batchSlots[count] = slot;
        batchRegions[count] = cap[0];
        batchRequests[count] = cap[1];
        count++;
        continue;
      }
      pending = true;
      break;
    }
    pageOutBatch(count);
  } else if (label == MSG_PAGE_IN && caps >= 1) {
    pageIn(slot, cap[0]);
  } else {
    for (let i = 0; i < caps; i++) capDrop(cap[i]);
  }
}
