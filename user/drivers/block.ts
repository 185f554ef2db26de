// The block driver (docs/DRIVERS.md "Block driver"): serves INFO, READ, WRITE and FLUSH of the
// block device (docs/DEVICES.md "Block") to clients that find it as "block" in the registry.
// Config:
//   driver block block device=block interrupt=block memory=512
// Slots: 2 the registry, 3 the device, 4 its interrupt line, 5 a Memory (the DMA window, its
// Receivers).
//
// One loop waits on two Receivers, the interrupt's first. A call is checked, its Reply capability
// and the Region it brought are kept, and its work is cut into device requests (block-parts/
// requests.ts); the device completes them in any order, and a call is answered when its last one
// completes, with the Region moved back. Many calls are in flight at once; while the table of
// them is full the driver waits for completions only, and callers wait in its Receiver's queue.
// Data of a call of 16 KiB or more is not copied here: its Region is lent to the device for the
// call (DEVICE_GRANT, grant slot = the call's table index), which moves the bytes between it and
// the disk itself, the whole call in one device request; the loan ends before the answer. A
// smaller call (a copy costs less than the loan), a device without grants or a grant the kernel
// refuses has the bytes copied, once, between the Region and data buffers of the DMA window. A
// copy of the view a WRITE brings is kept (lib/kept-views.ts), so the buffer stays mapped here and
// the next WRITE from it maps nothing.
//
// Nothing here allocates after the start, so it can serve for ever on the stub runtime.
import {
  exit, errorName, lineBegin, lineAdd, lineAddU32, lineAddU64, linePrint, capKind, capDrop, msgBegin, msgAddWord,
  msgAddCap, msgInvoke, msgLabel, msgReply, msgWord, msgWordCount, msgCap, msgCapCount, reply, registryRegisterForServices,
  Device, Interrupt, Memory, Process, Receiver, Region, CAP_MOVE, KIND_REPLY, MSG_INTERRUPT, OP_REGION_INFO,
  OP_RECEIVER_RECEIVE, RIGHT_RECEIVER_CALL, RIGHT_RECEIVER_SEND, E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_INVALID_CAP,
  E_MISSING_RIGHT, E_PEER_DEAD, E_QUOTA, E_WRONG_TYPE, STDERR,
} from "../lib";
import {
  BLOCK_SERVICE, BLOCK_INFO, BLOCK_READ, BLOCK_WRITE, BLOCK_FLUSH, BLOCK_E_IO, BLOCK_E_RANGE, blockLabel,
  blockDeviceStatus,
} from "../lib/block-client";
import { blockDeviceAttach } from "../lib/contracts/block";
import { Registers, DEVICE_MAGIC, KIND_BLOCK, MAGIC, KIND, SECTOR_SIZE, CAPACITY, FLAGS, GRANTS, DMA_SIZE, OP_READ, OP_WRITE, OP_FLUSH } from "./block-parts/registers";
import { BlockQueue, CHUNK_BYTES, CHUNK_SECTORS, RING_SLOTS } from "./block-parts/queue";
import { RequestTable, MAX_REQUESTS, MAX_CAPS } from "./block-parts/requests";
import { KeptViews } from "../lib/kept-views";
import { Failure } from "./common/failure";

const DEVICE: i32 = 3;
const INTERRUPT: i32 = 4;
const MEMORY: i32 = 5;
/** Calls that may wait in the Receiver while the table is full. */
const CALL_QUEUE: u32 = 64;
/** Data buffers of CHUNK_BYTES in the DMA window, halved until the Memory can pay for them. */
const MAX_BUFFERS: i32 = 16;
const SECTOR_BYTES: u32 = 512;

const failure = new Failure("block");
const fail = (what: string, status: i32): void => failure.fail(what, status);
const check = (what: string, status: i32): i32 => failure.check(what, status);

// ---- Start: the device, its window, the Receivers, the registry --------------------------------

check("listen", Process.self().listen(true)); // calls bring Regions
const home = new Memory(MEMORY);
const device = new Device(DEVICE);
check("reset the device", device.reset());
const mapped = device.map();
if (mapped < 0) fail("map the device", <i32>mapped);
const registers = new Registers(<usize>mapped);
if (registers.get(MAGIC) != DEVICE_MAGIC || registers.get(KIND) != KIND_BLOCK) {
  lineBegin("block: slot 3 is not a block device (kind ");
  lineAddU32(registers.get(KIND));
  lineAdd(")");
  linePrint(STDERR);
  exit(1);
}
const sectorSize = registers.get(SECTOR_SIZE);
const capacity = registers.get64(CAPACITY);
if (sectorSize != SECTOR_BYTES) fail("the device's sectors are not 512 bytes", E_INVALID_ARGUMENT);

let buffers = MAX_BUFFERS;
let window = home.createRegion(BlockQueue.pagesFor(buffers));
while (window == E_QUOTA && buffers > 1) {
  buffers >>= 1;
  window = home.createRegion(BlockQueue.pagesFor(buffers));
}
check("create the DMA window", window);
const windowInfo = new Region(window).info();
check("read the DMA window's address", windowInfo.status);
check("give the device its DMA window", device.dma(window));
if (registers.get(DMA_SIZE) != BlockQueue.pagesFor(buffers) << 12) fail("the device does not see the window", E_INVALID_ARGUMENT);
const queue = new BlockQueue(registers, <usize>windowInfo.address, buffers);
const configured = queue.configure();
if (configured != 0) {
  lineBegin("block: the device refused the ring: error ");
  lineAddU32(configured);
  linePrint(STDERR);
  exit(1);
}

const interrupts = new Receiver(check("create the interrupt Receiver", home.createReceiver(1)));
const calls = new Receiver(check("create the call Receiver", home.createReceiver(CALL_QUEUE)));
// Before the capability it registers is minted: every call through it is then contract BlockDevice's
// (contracts/block.contract), a slot of the queue kept for each client's one call on its way.
check("give the call Receiver contract BlockDevice", blockDeviceAttach(calls.cap));
const interrupt = new Interrupt(INTERRUPT);
check("bind the interrupt", interrupt.bind(<u32>check("mint", interrupts.mint(0, RIGHT_RECEIVER_SEND)) | CAP_MOVE));
const requests = new RequestTable();
// A call's Region is lent to the device (grant slot = its index in the table) when the device takes
// as many grants as there are entries: the device then reads a WRITE's bytes from the client's own
// pages, and writes a READ's into them, with no copy through the window's data buffers.
const grants = registers.get(GRANTS) >= <u32>MAX_REQUESTS;
/** Calls this large or larger are lent to the device; smaller ones are copied through a data buffer. */
const GRANT_FROM_BYTES: u64 = 16 << 10;
/**
 * Views of the buffers WRITEs came from: the file system's four (1, 16, 64 and 256 pages) and the
 * Regions of its page cache (64 MiB at most, in Regions of 256 pages), whose write-back sends
 * views of them: each is mapped here once, not at every call.
 */
const keptViews = new KeptViews(4 + 64, 256);

// For services only: the file system is the disk's client; a program reaches files through it, never blocks.
check("register " + BLOCK_SERVICE, registryRegisterForServices(BLOCK_SERVICE, <u32>check("mint", calls.mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
lineBegin("block: ");
lineAddU64(capacity);
lineAdd(" sectors of 512 bytes, ");
lineAddU32(<u32>buffers);
lineAdd(" buffers of ");
lineAddU32(CHUNK_BYTES >> 10);
lineAdd(" KiB; serving \"block\"");
linePrint();

// ---- Answers ------------------------------------------------------------------------------------

const incoming = new StaticArray<i32>(MAX_CAPS);

/** Starts an answer: the status as the label (its magnitude), then words with msgAddWord. */
function beginAnswer(status: i32): void {
  msgBegin(blockLabel(status));
}

/** Moves `count` capabilities of `caps` back and sends the answer through `replyCap`. */
function sendAnswer(replyCap: i32, caps: StaticArray<i32>, count: i32): void {
  for (let i = 0; i < count; i++) {
    const cap = unchecked(caps[i]);
    if (cap != 0) msgAddCap(<u32>cap | CAP_MOVE);
  }
  const status = reply(replyCap);
  if (status >= 0 || capKind(replyCap) != <i32>KIND_REPLY) return; // answered, or the caller has gone
  // Refused (it cannot be: the caller's buffer holds any answer): do not keep the caller waiting.
  capDrop(replyCap);
  for (let i = 0; i < count; i++) if (unchecked(caps[i]) != 0) capDrop(unchecked(caps[i]));
}

/** Answers at once with `status` and one word (bytes moved, 0 on an error). */
function answerNow(replyCap: i32, status: i32, count: i32): void {
  beginAnswer(status);
  msgAddWord(0);
  sendAnswer(replyCap, incoming, count);
}

/** Answers client request `index`, which has finished, and frees its entry. */
function answer(index: i32): void {
  const r = requests.at(index);
  // The loan ends with the request: the device reaches nothing of the client's after its answer.
  if (r.granted) device.ungrant(<u32>index);
  beginAnswer(r.status);
  msgAddWord(r.status == 0 ? r.moved : 0);
  sendAnswer(r.reply, r.caps, r.capCount);
  requests.release(index);
}

// ---- Calls --------------------------------------------------------------------------------------

function keepCaps(index: i32, count: i32): void {
  const r = requests.at(index);
  for (let i = 0; i < count; i++) unchecked((r.caps[i] = unchecked(incoming[i])));
  r.capCount = count;
}

/** A call is in the message buffer (there is room in the table). */
function handleCall(): void {
  const label = msgLabel();
  const replyCap = msgReply();
  const words = msgWordCount();
  const sector = <u64>msgWord(0) | (<u64>msgWord(1) << 32);
  const count = msgWord(2);
  const offset = msgWord(3);
  const caps = min(msgCapCount(), MAX_CAPS);
  for (let i = 0; i < caps; i++) unchecked((incoming[i] = msgCap(i)));
  if (replyCap == 0) {
    // A send: nobody to answer, and nothing to keep.
    for (let i = 0; i < caps; i++) if (unchecked(incoming[i]) != 0) capDrop(unchecked(incoming[i]));
    return;
  }
  if (label == BLOCK_INFO) {
    beginAnswer(0);
    msgAddWord(sectorSize);
    msgAddWord(<u32>capacity);
    msgAddWord(<u32>(capacity >>> 32));
    msgAddWord(<u32>MAX_REQUESTS);
    msgAddWord(CHUNK_SECTORS * <u32>buffers);
    msgAddWord(registers.get(FLAGS));
    sendAnswer(replyCap, incoming, caps);
    return;
  }
  if (label == BLOCK_FLUSH) {
    keepCaps(requests.take(BLOCK_FLUSH, replyCap), caps);
    return;
  }
  if (label != BLOCK_READ && label != BLOCK_WRITE) {
    answerNow(replyCap, E_INVALID_ARGUMENT, caps);
    return;
  }
  if (words < 4) {
    answerNow(replyCap, E_BAD_MESSAGE, caps);
    return;
  }
  // The data's Region: its owner for a READ (we write into it), its owner or a view for a WRITE.
  if (caps == 0 || unchecked(incoming[0]) == 0) {
    answerNow(replyCap, E_INVALID_CAP, caps);
    return;
  }
  // REGION_INFO answers only a range mapped here in full (a filler narrowed to RIGHT_REGION_FILL
  // is refused E_MISSING_RIGHT): copying from the address it gives never faults.
  msgBegin(OP_REGION_INFO);
  const found = msgInvoke(unchecked(incoming[0]));
  if (found < 0) {
    // (contract BlockDevice answers a Write WrongType or PeerDead, and neither MissingRight nor Quota)
    const named = label == BLOCK_WRITE && (found == E_WRONG_TYPE || found == E_PEER_DEAD);
    answerNow(replyCap, named ? found : E_INVALID_ARGUMENT, caps);
    return;
  }
  const address = msgWord(0);
  const regionBytes = <u64>msgWord(1) << 12;
  const owner = msgWord(3) != 0;
  const bytes = <u64>count * SECTOR_BYTES;
  let status = 0;
  if (label == BLOCK_READ && !owner) status = E_MISSING_RIGHT;
  else if (<u64>offset + bytes > regionBytes) status = E_INVALID_ARGUMENT;
  else if (sector > capacity || <u64>count > capacity - sector) status = BLOCK_E_RANGE;
  if (status != 0 || count == 0) {
    answerNow(replyCap, status, caps);
    return;
  }
  if (label == BLOCK_WRITE && !owner) keptViews.keep(unchecked(incoming[0]), address, <u32>(regionBytes >> 12));
  const index = requests.take(label, replyCap);
  const r = requests.at(index);
  r.data = <usize>address + <usize>offset;
  r.sector = sector;
  r.total = <u32>bytes;
  // A READ's grant must be writable (the owner's); otherwise, or when the kernel refuses, the
  // bytes go through the window's buffers as before. So do small calls: copying a few KiB costs
  // less than the two kernel calls a loan takes.
  if (grants && bytes >= GRANT_FROM_BYTES) {
    const lent = device.grant(<u32>index, unchecked(incoming[0]));
    r.granted = lent == 1 || (lent == 0 && label == BLOCK_WRITE);
    if (lent >= 0 && !r.granted) device.ungrant(<u32>index);
    r.offset = offset;
  }
  keepCaps(index, caps);
}

// ---- The device ---------------------------------------------------------------------------------

/** Gives the device what it has room for, oldest request first, and notifies it once. */
function pump(): void {
  for (;;) {
    const index = requests.oldestWithWork();
    if (index < 0) break;
    const r = requests.at(index);
    if (r.op == BLOCK_FLUSH) {
      if (!queue.canSubmit(false)) break;
      queue.submit(OP_FLUSH, index, 0, 0, 0, -1);
      r.flushIssued = true;
      r.outstanding++;
      continue;
    }
    if (r.granted) {
      // The whole call in one device request, straight from (or into) the client's pages.
      if (!queue.canSubmit(false)) break;
      queue.submitGranted(r.op == BLOCK_WRITE ? OP_WRITE : OP_READ, index, r.sector, r.total, <u32>index, r.offset);
      r.issued = r.total;
      r.outstanding++;
      continue;
    }
    if (!queue.canSubmit(true)) break;
    // As many neighbouring buffers as the rest needs (or the longest run free): one device request.
    const left = r.total - r.issued;
    const buffer = queue.takeBuffers(<i32>((left + CHUNK_BYTES - 1) / CHUNK_BYTES));
    const bytes = min(<u32>queue.takenBuffers * CHUNK_BYTES, left);
    const write = r.op == BLOCK_WRITE;
    if (write) memory.copy(queue.bufferAddress(buffer), r.data + <usize>r.issued, bytes);
    queue.submit(write ? OP_WRITE : OP_READ, index, r.sector + <u64>(r.issued >> 9), r.issued, bytes, buffer, queue.takenBuffers);
    r.issued += bytes;
    r.outstanding++;
  }
  const error = queue.notify();
  if (error == 0) return;
  lineBegin("block: the device refused NOTIFY: error ");
  lineAddU32(error);
  linePrint(STDERR);
  for (let id: u32 = 0; id < RING_SLOTS; id++) {
    const d = queue.inFlight(id);
    if (d != null && d.refused) complete(id, BLOCK_E_IO, 0);
  }
}

/** Device request `id` ended with `status` (a client status). */
function complete(id: u32, status: i32, length: u32): void {
  const d = queue.inFlight(id);
  if (d == null) {
    lineBegin("block: a completion for id ");
    lineAddU32(id);
    lineAdd(", which is not in flight; ignored");
    linePrint(STDERR);
    return;
  }
  const index = d.owner;
  const r = requests.at(index);
  if (status == 0 && d.op != OP_FLUSH && length != d.bytes) status = BLOCK_E_IO;
  if (status == 0 && d.op == OP_READ && !r.granted) memory.copy(r.data + <usize>d.at, queue.bufferAddress(d.buffer), d.bytes);
  const bytes = d.op == OP_FLUSH ? 0 : d.bytes;
  queue.finish(d, id);
  r.complete(status, bytes);
  if (r.finished) answer(index);
}

/** The completion interrupt: acknowledge, take every completion, re-arm. */
function handleInterrupt(): void {
  queue.acknowledge();
  while (queue.nextCompletion()) complete(queue.doneId, blockDeviceStatus(queue.doneStatus), queue.doneLength);
  queue.consumed();
  interrupt.ack();
}

// ---- The loop -----------------------------------------------------------------------------------

for (;;) {
  msgBegin(OP_RECEIVER_RECEIVE);
  if (requests.hasRoom) msgAddCap(<u32>calls.cap);
  const from = msgInvoke(interrupts.cap);
  if (from < 0) fail("receive", from);
  if (from == 0) {
    if (msgLabel() == MSG_INTERRUPT) handleInterrupt();
  } else {
    handleCall();
  }
  pump();
}
