// The host folder server (docs/HOSTFS.md "Host folders"): serves a host folder device
// (docs/DEVICES.md "Host folder": a host folder given with `dogma run --dir`), read and written,
// with the file system server's protocol (docs/FS.md) and the requests beside it for links and
// times, so that WASI programs and every client work on it as on the disk. Slots, as init grants
// them: 2 the registry (or anything: it registers "folder" only where a registry is), 3 the
// device, 4 its interrupt line, 5 a Memory (the DMA window, two Receivers, the handle table), 6
// a Cappage it publishes its root in (slot 0: every right, or READ on a read-only folder; slot 1
// another). One call at a time, as the host share server; contract FileSystem on its Receiver.
import {
  exit, errorName, lineBegin, lineAdd, lineAddU32, linePrint, capKind, capDrop, msgReply, msgSetLabel, reply,
  replyAndReceive, registryRegister, Cappage, Device, Interrupt, Memory, Process, Receiver, Region, CAP_MOVE,
  KIND_CAPPAGE, KIND_DEVICE, KIND_RECEIVER, KIND_REPLY, RIGHT_RECEIVER_CALL, RIGHT_RECEIVER_SEND, STDERR,
} from "../lib";
import { fsErrorName } from "../lib/fs-protocol";
import { fileSystemAttach } from "../lib/contracts/fs";
import { Registers } from "../drivers/common/device-registers";
import { ShareQueue, DATA_AT } from "./hostfs-parts/share";
import { FolderOperations, FOLDER_DATA_BYTES } from "./folderfs-parts/operations";
import { FOLDER_FLAGS } from "./folderfs-parts/device";

const REGISTRY: i32 = 2;
const DEVICE: i32 = 3;
const INTERRUPT: i32 = 4;
const MEMORY: i32 = 5;
const PUBLISHED: i32 = 6;
const CALL_QUEUE: u32 = 64;
const KIND_FOLDER: u32 = 6;
const WINDOW_PAGES: u32 = (DATA_AT + FOLDER_DATA_BYTES) >> 12;
/**
 * The quota of the Memory the attached handles' read buffers are made in (2 MiB: a 1 MiB one and
 * sixteen of 16 pages), and the page of each of the sixteen that holds its change word.
 */
const READ_BUFFER_PAGES: u32 = 512 + 16;

function fail(what: string, status: i32): void {
  lineBegin("folderfs: ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(fsErrorName(status));
  linePrint(STDERR);
  exit(1);
}

function check(what: string, status: i32): i32 {
  if (status < 0) fail(what, status);
  return status;
}

if (capKind(DEVICE) != <i32>KIND_DEVICE) {
  lineBegin("folderfs: no host folder device: nothing to serve");
  linePrint();
  exit(0);
}
check("listen", Process.self().listen(true)); // calls bring Regions
const home = new Memory(MEMORY);
const device = new Device(DEVICE);
check("reset the device", device.reset());
const mapped = device.map();
if (mapped < 0) fail("map the device", <i32>mapped);
const registers = new Registers(<usize>mapped);
if (!registers.isKind(KIND_FOLDER)) {
  lineBegin("folderfs: slot 3 is not a host folder device (kind ");
  lineAddU32(registers.get(1));
  lineAdd(")");
  linePrint(STDERR);
  exit(1);
}
const readOnly = (registers.get(FOLDER_FLAGS) & 1) != 0;
const window = check("create the DMA window", home.createRegion(WINDOW_PAGES));
const windowInfo = new Region(window).info();
check("read the DMA window's address", windowInfo.status);
check("give the device its DMA window", device.dma(window));
const interrupts = new Receiver(check("create the interrupt Receiver", home.createReceiver(1)));
const interrupt = new Interrupt(INTERRUPT);
check("bind the interrupt", interrupt.bind(<u32>check("mint", interrupts.mint(0, RIGHT_RECEIVER_SEND)) | CAP_MOVE));
const folder = new ShareQueue(registers, <usize>windowInfo.address, interrupts.cap, interrupt);
const configured = folder.configure();
if (configured != 0) {
  lineBegin("folderfs: the device refused the ring: error ");
  lineAddU32(configured);
  linePrint(STDERR);
  exit(1);
}
const calls = new Receiver(check("create the call Receiver", home.createReceiver(CALL_QUEUE)));
// Before anything is minted from it: every message on its capabilities is contract FileSystem's,
// as on the disk's file system and the host share's server.
check("give the call Receiver contract FileSystem", fileSystemAttach(calls.cap));
const readBuffers = new Memory(check("create the read buffers' Memory", home.createMemory(READ_BUFFER_PAGES)));
const ops = new FolderOperations(folder, calls, readOnly, readBuffers);
if (capKind(PUBLISHED) == <i32>KIND_CAPPAGE) {
  const page = new Cappage(PUBLISHED);
  const first = check("open the folder's root", ops.openRoot());
  const second = check("open the folder's root", ops.openRoot());
  check("publish the root", page.put(0, <u32>check("mint", calls.mint(<u32>first, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
  check("publish the root", page.put(1, <u32>check("mint", calls.mint(<u32>second, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
}
if (capKind(REGISTRY) == <i32>KIND_RECEIVER) registryRegister("folder", <u32>check("mint the service capability", calls.mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE);

let status = calls.receive();
for (;;) {
  if (status < 0) break;
  const replyCap = msgReply();
  const label = ops.handle();
  if (replyCap == 0) {
    // A send: nobody to answer. What it brought goes (the reply built would have moved it back),
    // and a handle it opened or attached is closed (nobody holds it: it would keep an attached
    // handle's place, of 16, until the table is full).
    if (ops.opened >= 0) ops.closeEntry(ops.opened);
    for (let i = 0; i < ops.reply.capCount; i++) capDrop(unchecked(ops.reply.caps[i]));
    status = calls.receive();
    continue;
  }
  msgSetLabel(label);
  if (ops.opened >= 0) {
    // A new handle whose reply fails must not stay open.
    if (reply(replyCap) < 0) {
      ops.closeEntry(ops.opened);
      for (let i = 0; i < ops.reply.capCount; i++) capDrop(unchecked(ops.reply.caps[i]));
      if (capKind(replyCap) == <i32>KIND_REPLY) capDrop(replyCap);
    }
    status = calls.receive();
    continue;
  }
  status = replyAndReceive(replyCap, calls.cap);
  if (status < 0 && capKind(replyCap) == <i32>KIND_REPLY) {
    capDrop(replyCap); // a refused reply: the caller's call ends with E_PEER_DEAD
    status = calls.receive();
  }
}
lineBegin("folderfs: receiver gone: ");
lineAdd(errorName(status));
linePrint(STDERR);
exit(1);
