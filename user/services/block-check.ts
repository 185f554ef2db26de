// Checks the block driver's protocol (docs/DRIVERS.md "Block driver") through user/lib/block-client:
// INFO, a WRITE and READ of many device requests' worth, unaligned buffer offsets, FLUSH, and each
// error a request can meet, which must come back as a status with the capabilities it brought.
// Prints one line per check and "block-check: ok", and exits 0 when every check held. Config:
//   service check block-check memory=1024
// Slots: 2 the registry, 3 its Memory.
import {
  print, exit, capKind, capDrop, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgCap, msgCapCount,
  Memory, Region, CAP_MOVE, KIND_REGION, KIND_RECEIVER, E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_INVALID_CAP,
  E_MISSING_RIGHT, E_WRONG_TYPE, E_CONTRACT, RIGHT_REGION_FILL, REGION_ZERO_ON_FREE, capCopy,
} from "../lib";
import {
  BlockClient, blockErrorName, blockStatus, BLOCK_READ, BLOCK_WRITE, BLOCK_E_RANGE,
} from "../lib/block-client";

const MEMORY: i32 = 3;
/** 2.5 MiB: 5120 sectors, 40 device requests of 128 sectors, more than the driver has buffers. */
const PAGES: u32 = 640;
const BIG_SECTORS: u32 = PAGES * 8;
const BIG_AT: u64 = 1000;

let failures = 0;

function expect(what: string, got: i32, wanted: i32): void {
  const ok = got == wanted;
  print("block-check: " + what + ": " + (got >= 0 ? got.toString() : blockErrorName(got)) + (ok ? "" : " (FAILED: wanted " + (wanted >= 0 ? wanted.toString() : blockErrorName(wanted)) + ")"));
  if (!ok) failures++;
}

/** What the check writes at byte `i` of sector `sector`: different in every sector and byte. */
function pattern(sector: u64, i: u32): u8 {
  return <u8>((<u32>sector * 131 + i * 7 + (i >> 8)) ^ 0x5a);
}

function fill(client: BlockClient, offset: u32, sector: u64, count: u32): void {
  for (let s: u32 = 0; s < count; s++) {
    const at = client.address + <usize>offset + (<usize>s << 9);
    for (let i: u32 = 0; i < 512; i++) store<u8>(at + <usize>i, pattern(sector + <u64>s, i));
  }
}

/** Sectors (from `sector`) that do not hold their pattern at `offset` in the buffer. */
function mismatches(client: BlockClient, offset: u32, sector: u64, count: u32): i32 {
  let bad = 0;
  for (let s: u32 = 0; s < count; s++) {
    const at = client.address + <usize>offset + (<usize>s << 9);
    for (let i: u32 = 0; i < 512; i++) {
      if (load<u8>(at + <usize>i) != pattern(sector + <u64>s, i)) {
        bad++;
        break;
      }
    }
  }
  return bad;
}

const client = new BlockClient(MEMORY, PAGES);

/** A READ built by hand: `words` of it, with `cap` (0: none); the status, and what came back in `returned`. */
let returned: i32 = 0;
function rawRead(words: i32, cap: i32, label: u32 = BLOCK_READ): i32 {
  msgBegin(label);
  const w: u32[] = [0, 0, 1, 0];
  for (let i = 0; i < words; i++) msgAddWord(w[i]);
  if (cap != 0) msgAddCap(<u32>cap | CAP_MOVE);
  const status = msgInvoke(client.service);
  if (status < 0) return status;
  returned = msgCapCount() > 0 ? msgCap(0) : 0;
  return blockStatus(msgLabel());
}

expect("connect", client.connect(), 0);
print("block-check: " + client.capacity.toString() + " sectors of " + client.sectorSize.toString() + " bytes");

// Many device requests' worth, written and read back; the buffer is zeroed in between.
fill(client, 0, BIG_AT, BIG_SECTORS);
expect("write 5120 sectors", client.write(BIG_AT, BIG_SECTORS), <i32>(BIG_SECTORS * 512));
memory.fill(client.address, 0, PAGES << 12);
expect("read them back", client.read(BIG_AT, BIG_SECTORS), <i32>(BIG_SECTORS * 512));
expect("sectors that differ", mismatches(client, 0, BIG_AT, BIG_SECTORS), 0);
expect("flush", client.flush(), 0);

// Buffer offsets need no alignment.
fill(client, 100, 7, 3);
expect("write 3 sectors from offset 100", client.write(7, 3, 100), 1536);
memory.fill(client.address, 0, 8192);
expect("read them at offset 7", client.read(7, 3, 7), 1536);
expect("sectors that differ", mismatches(client, 7, 7, 3), 0);
expect("read 0 sectors", client.read(0, 0), 0);

// Errors: each a status, and the Region comes back.
expect("read past the end", client.read(client.capacity - 1, 2), BLOCK_E_RANGE);
expect("write at the last sector + 1", client.write(client.capacity, 1), BLOCK_E_RANGE);
expect("read beyond the buffer", client.read(0, 2, (PAGES << 12) - 512), E_INVALID_ARGUMENT);
expect("buffer still ours", capKind(client.buffer.region), <i32>KIND_REGION);
// What contract BlockDevice forbids the kernel refuses before the driver sees it: nothing moves.
const view = new Region(client.buffer.region).view();
expect("read into a view", rawRead(4, view), E_CONTRACT);
expect("the view stayed", capKind(view), <i32>KIND_REGION);
capDrop(view);
expect("read without a Region", rawRead(4, 0), E_CONTRACT);
expect("read with 2 words", rawRead(2, client.buffer.region), E_CONTRACT);
expect("the buffer stayed", capKind(client.buffer.region), <i32>KIND_REGION);
const receiver = new Memory(MEMORY).createReceiver();
expect("read into a Receiver", rawRead(4, receiver), E_CONTRACT);
expect("the Receiver stayed", capKind(receiver), <i32>KIND_RECEIVER);
// A filler narrowed to RIGHT_REGION_FILL maps nothing here nor in the driver, though REGION_INFO
// says where its range lies: the driver must not copy from it (it faulted, ending it for every client).
const filler = new Region(client.buffer.region).filler();
const fillOnly = capCopy(filler, RIGHT_REGION_FILL);
capDrop(filler);
expect("write from a filler that maps nothing", rawRead(4, fillOnly, BLOCK_WRITE), E_INVALID_ARGUMENT);
capDrop(returned);
msgBegin(99);
const unknown = msgInvoke(client.service);
expect("label 99", unknown < 0 ? unknown : blockStatus(msgLabel()), E_CONTRACT);
expect("a read after all that", client.read(7, 3, 0), 1536);
expect("sectors that differ", mismatches(client, 0, 7, 3), 0);
expect("requests in flight at most", <i32>client.driverRequests, 32);
expect("sectors per device request", <i32>client.chunkSectors, 2048); // 16 buffers of 64 KiB side by side

// The driver keeps a view of each Region written from (lib/kept-views.ts), and lets go of one whose
// owner freed it once another comes: the test then finds it holding no freed Region.
const home = new Memory(MEMORY);
const gone = home.createRegion(16, REGION_ZERO_ON_FREE);
const goneView = new Region(gone).view();
expect("write from a Region's view", client.writeView(goneView, 20000, 3, 0), 1536);
capDrop(client.viewBack);
expect("free that Region", new Region(gone).free(), 0);
const next = home.createRegion(16);
expect("write from another's view", client.writeView(new Region(next).view(), 20000, 3, 0), 1536);

if (failures > 0) {
  print("block-check: " + failures.toString() + " checks FAILED");
  exit(1);
}
print("block-check: ok");
exit(0);
