// A block client that keeps going while the driver dies (issue 4, fault tolerance): in its own
// area of the disk (4096 sectors from pid × 4096) it writes 64 sectors and flushes them, then runs
// ROUNDS rounds of writing 160 sectors (two device requests) and reading them back. A call that
// meets a dead driver (E_PEER_DEAD) is logged, the driver is looked up again (init restarts it)
// and the round is done again; any other error ends the client with code 1. Exits 0 at the end.
// Every byte it writes is `diskPattern(sector, i)`, so a test can check the disk image.
// Config:
//   service c1 block-test-client memory=128
// Slots: 2 the registry, 3 its Memory.
import { exit, getpid, lineBegin, lineAdd, lineAddI32, lineAddU64, linePrint, E_PEER_DEAD, STDERR } from "../lib";
import { BlockClient, blockErrorName } from "../lib/block-client";

const MEMORY: i32 = 3;
const AREA_SECTORS: u64 = 4096;
const FIRST_SECTORS: u32 = 64;
const ROUND_SECTORS: u32 = 160;
const ROUNDS: i32 = 24;
const PAGES: u32 = (ROUND_SECTORS * 512 + 4095) >> 12;

const pid = getpid();
const base = <u64>pid * AREA_SECTORS;
const client = new BlockClient(MEMORY, PAGES);
let restarts = 0;

/** Byte `i` of sector `sector` as every block-test-client writes it (the test computes the same). */
function diskPattern(sector: u64, i: u32): u8 {
  return <u8>((<u32>sector * 0x9e3779b1 + i * 0x85ebca6b) >>> 24) ^ <u8>i;
}

function begin(): void {
  lineBegin("block-test-client (pid ");
  lineAddI32(pid);
  lineAdd("): ");
}

function fail(what: string, status: i32): void {
  begin();
  lineAdd(what);
  lineAdd(": ");
  lineAdd(blockErrorName(status));
  linePrint(STDERR);
  exit(1);
}

function fill(sector: u64, count: u32): void {
  for (let s: u32 = 0; s < count; s++) {
    const at = client.address + (<usize>s << 9);
    for (let i: u32 = 0; i < 512; i++) store<u8>(at + <usize>i, diskPattern(sector + <u64>s, i));
  }
}

function holds(sector: u64, count: u32): bool {
  for (let s: u32 = 0; s < count; s++) {
    const at = client.address + (<usize>s << 9);
    for (let i: u32 = 0; i < 512; i++) if (load<u8>(at + <usize>i) != diskPattern(sector + <u64>s, i)) return false;
  }
  return true;
}

/**
 * True when `status` was a success; after E_PEER_DEAD it logs, connects to the restarted driver
 * and answers false (do it again); any other error ends the client.
 */
function succeeded(what: string, status: i32): bool {
  if (status >= 0) return true;
  if (status != E_PEER_DEAD) fail(what, status);
  restarts++;
  begin();
  lineAdd(what);
  lineAdd(": E_PEER_DEAD; looking up block again");
  linePrint();
  const connected = client.connect();
  if (connected < 0) fail("connect again", connected);
  return false;
}

/** Writes `count` sectors at `sector` and reads them back, again until the driver lets it finish. */
function writeAndVerify(sector: u64, count: u32): void {
  for (;;) {
    fill(sector, count);
    if (!succeeded("write", client.write(sector, count))) continue;
    memory.fill(client.address, 0, <usize>count << 9);
    if (!succeeded("read", client.read(sector, count))) continue;
    if (!holds(sector, count)) fail("the sectors read back differ", 0);
    return;
  }
}

function flush(): void {
  while (!succeeded("flush", client.flush())) {}
}

const connected = client.connect();
if (connected < 0) fail("connect", connected);
writeAndVerify(base, FIRST_SECTORS);
flush();
begin();
lineAdd("flushed sectors ");
lineAddU64(base);
lineAdd(" to ");
lineAddU64(base + FIRST_SECTORS - 1);
linePrint();

for (let round = 0; round < ROUNDS; round++) {
  writeAndVerify(base + FIRST_SECTORS + <u64>round * ROUND_SECTORS, ROUND_SECTORS);
}
flush();
begin();
lineAdd("done: ");
lineAddI32(ROUNDS);
lineAdd(" rounds verified and flushed; calls that met a dead driver: ");
lineAddI32(restarts);
lineAdd("; buffers replaced: ");
lineAddI32(client.buffersReplaced);
linePrint();
exit(0);
