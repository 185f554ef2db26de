// A hostile file server and its clients, for test/fs/hostile-server.test.ts: the server answers
// the fs protocol with Regions that lie, and a client (FsClient) must fail the call with
// E_BAD_MESSAGE instead of faulting on them.
//   -- server: publishes a root; ATTACH gives a one-page read buffer and says 16 pages; MAP a
//      one-page map whose header says 8 data pages, all valid; READ keeps the client's Region,
//      gives back one of its own and says 1 MiB was read; READDIR gives the buffer back and says
//      100000 entries in 2 GiB.
//   -- attach, map, read, readdir: a client takes what the server gave and uses it as a reader
//      does (a read through the attached handle, a read the map answers, a read, a walk over the
//      entries), says how it went, then that it is unharmed.
//   -- block: a block driver (registered as "block", contract BlockDevice) whose READ keeps the
//      client's Region and gives back one of its own; -- blockread: its client (BlockClient) reads.
// Config: service evil fs-hostile publish=evil memory=256 -- server
//         service a fs-hostile use=evil memory=256 -- attach
//         service blk fs-hostile memory=256 -- block
//         service b fs-hostile memory=256 -- blockread
import {
  exit, eprint, print, arg, msgBegin, msgAddWord, msgAddCap, msgCap, msgCapCount, capDrop, serve, Memory, Region, Receiver,
  Cappage, Process, CAP_MOVE, RIGHT_RECEIVER_CALL, registryRegisterForServices,
} from "../lib";
import { BlockClient, BLOCK_SERVICE, BLOCK_INFO, BLOCK_READ, blockErrorName } from "../lib/block-client";
import { blockDeviceAttach } from "../lib/contracts/block";
import {
  FsClient, fsRoot, fsErrorName, direntNext, direntNameLength, FS_RIGHT_READ, FS_OPEN, FS_ATTACH, FS_MAP, FS_READ,
  FS_READDIR, FS_KIND_FILE, FS_KIND_DIR, FS_MAP_MAGIC, FS_MAP_MAGIC_AT, FS_MAP_SIZE_AT, FS_MAP_VALID_AT,
} from "../lib/fs-client";

const SHARED: i32 = 3;
/** The Memory's slot: 4 after the Cappage (use= or publish=), 3 for the block roles, which have none. */
const MEMORY: i32 = arg(1) == "block" || arg(1) == "blockread" ? 3 : 4;

function check(what: string, status: i32): i32 {
  if (status < 0) {
    eprint("fs-hostile: FAIL: " + what + ": " + fsErrorName(status));
    exit(1);
  }
  return status;
}

// ---- The server ----------------------------------------------------------------------------

let receiver = 0;

/** A one-page Region of the server's own: its owner capability, and its address in `regionAddress`. */
let regionAddress: u32 = 0;
function onePage(): i32 {
  const region = check("a page", new Memory(MEMORY).createRegion(1, 0));
  regionAddress = new Region(region).info().address;
  return region;
}

function handle(label: u32): u32 {
  // Every kernel call overwrites the message buffer: the request's capability is read first.
  const brought = msgCapCount() > 0 ? msgCap(0) : 0;
  if (label == FS_OPEN || label == FS_ATTACH) {
    const handle = check("mint", new Receiver(receiver).mint(1, RIGHT_RECEIVER_CALL));
    let view = 0;
    if (label == FS_ATTACH) view = check("a view", new Region(onePage()).view());
    msgBegin(0);
    if (label == FS_OPEN) {
      msgAddWord(FS_KIND_FILE);
      msgAddWord(0);
      msgAddWord(0);
      msgAddWord(7);
      msgAddCap(<u32>handle | CAP_MOVE);
    } else {
      msgAddWord(16 << 12); // the read buffer's bytes: it has one page
      msgAddCap(<u32>handle | CAP_MOVE);
      msgAddCap(<u32>view | CAP_MOVE);
    }
    return 0;
  }
  if (label == FS_MAP) {
    const map = onePage();
    // The header of a map of 8 valid pages (only the header page is there).
    store<u32>(<usize>regionAddress + FS_MAP_MAGIC_AT, FS_MAP_MAGIC);
    store<u64>(<usize>regionAddress + FS_MAP_SIZE_AT, 8 << 12);
    store<u8>(<usize>regionAddress + FS_MAP_VALID_AT, 0xff);
    const view = check("a view", new Region(map).view());
    msgBegin(0);
    msgAddWord(8); // data pages: it has a header page alone
    msgAddWord(regionAddress);
    msgAddCap(<u32>view | CAP_MOVE);
    return 0;
  }
  if (label == FS_READ) {
    const other = onePage(); // the client's Region stays here
    msgBegin(0);
    msgAddWord(1 << 20);
    msgAddCap(<u32>other | CAP_MOVE);
    return 0;
  }
  if (label == FS_READDIR) {
    msgBegin(0);
    msgAddWord(100000);
    msgAddWord(0);
    msgAddWord(0x7fff_ffff);
    if (brought != 0) msgAddCap(<u32>brought | CAP_MOVE);
    return 0;
  }
  if (brought != 0) capDrop(brought);
  msgBegin(0);
  msgAddWord(FS_KIND_DIR);
  return 0;
}

function runServer(): void {
  receiver = check("a Receiver", new Memory(MEMORY).createReceiver());
  const root = check("the root", new Receiver(receiver).mint(0, RIGHT_RECEIVER_CALL));
  check("publish the root", new Cappage(SHARED).put(0, root));
  serve(receiver, handle);
}

// ---- The block driver and its client ---------------------------------------------------------

function handleBlock(label: u32): u32 {
  const brought = msgCapCount() > 0 ? msgCap(0) : 0;
  if (label == BLOCK_INFO) {
    msgBegin(0);
    msgAddWord(512);
    msgAddWord(1000);
    msgAddWord(0);
    msgAddWord(4);
    msgAddWord(8);
    msgAddWord(0);
    return 0;
  }
  const back = label == BLOCK_READ ? onePage() : brought; // a READ's Region stays here
  msgBegin(0);
  msgAddWord(1 << 20);
  if (back != 0) msgAddCap(<u32>back | CAP_MOVE);
  return 0;
}

function runBlock(): void {
  receiver = check("a Receiver", new Memory(MEMORY).createReceiver());
  check("the contract", blockDeviceAttach(receiver));
  check("register", registryRegisterForServices(BLOCK_SERVICE, <u32>check("mint", new Receiver(receiver).mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
  serve(receiver, handleBlock);
}

function runBlockClient(): void {
  const disk = new BlockClient(MEMORY, 4);
  check("connect", disk.connect());
  const status = disk.read(0, 8);
  // A reader uses what it read.
  const first = status >= 0 ? load<u8>(disk.address) : 0;
  print("fs-hostile: blockread: " + (status < 0 ? blockErrorName(status) : "answered " + status.toString() + ", first byte " + first.toString()));
  print("fs-hostile: blockread: the client is unharmed");
}

// ---- The client ----------------------------------------------------------------------------

function said(status: i32): string {
  return status < 0 ? fsErrorName(status) : "answered " + status.toString();
}

function runClient(how: string): void {
  const fs = new FsClient(MEMORY, 4);
  const root = check("root", fsRoot(SHARED, 0));
  const file = check("open f", fs.open(root, "f", FS_RIGHT_READ));
  let status = 0;
  if (how == "attach") {
    status = fs.attach(file);
    if (status >= 0) status = fs.read(status, 0, 16384);
  } else if (how == "map") {
    status = fs.map(file);
    if (status >= 0) status = fs.read(file, 5 << 12, 4096);
  } else if (how == "read") {
    status = fs.read(file, 0, 4096);
  } else {
    status = fs.readdir(root, 0);
    // A lister walks the entries READDIR says there are.
    let at = fs.buffer.address;
    let names: u32 = 0;
    for (let i = 0; i < status; i++) {
      names += direntNameLength(at);
      at = direntNext(at);
    }
    if (status >= 0) print("fs-hostile: readdir: " + names.toString() + " name bytes");
  }
  print("fs-hostile: " + how + ": " + said(status));
  print("fs-hostile: " + how + ": the client is unharmed");
}

check("listen", Process.self().listen(true)); // both sides are given Regions
if (arg(1) == "server") runServer();
else if (arg(1) == "block") runBlock();
else if (arg(1) == "blockread") runBlockClient();
else runClient(arg(1));
exit(0);
