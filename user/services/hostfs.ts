// The host share server (docs/HOSTFS.md): serves the host share device (docs/DEVICES.md "Host
// share": a host folder given with `dogma boot --share DIR`) read-only, with the file system
// server's protocol (docs/FS.md), so that every client and tool works on it unchanged. Config:
//   driver host hostfs device=share interrupt=share memory=1024 publish=host
// Slots: 2 the registry, 3 the device, 4 its interrupt line, 5 a Memory (the DMA window, two
// Receivers, the handle table), 6 the Cappage init publishes to the lines that say `use=host`:
// the server puts a read-only root capability at slot 0 of it, and another at slot 1 (as the
// file system server does, where slot 0 has every right). The registry gets `host`, the service
// capability, which answers FS_INFO only.
//
// One call at a time: a call is handled whole (hostfs-parts/operations.ts), each of its device
// requests waited for on the interrupt's Receiver (hostfs-parts/share.ts), then answered. Nothing
// allocates after the start.
import {
  exit, errorName, lineBegin, lineAdd, lineAddU32, linePrint, capKind, capDrop, msgReply, msgSetLabel, reply,
  replyAndReceive, registryRegister, Cappage, Device, Interrupt, Memory, Process, Receiver, Region, CAP_MOVE,
  KIND_CAPPAGE, KIND_DEVICE, KIND_REPLY, RIGHT_RECEIVER_CALL, RIGHT_RECEIVER_SEND, STDERR,
} from "../lib";
import { FS_RIGHT_READ, fsErrorName } from "../lib/fs-protocol";
import { Registers, KIND_SHARE } from "../drivers/common/device-registers";
import { ShareQueue, WINDOW_PAGES } from "./hostfs-parts/share";
import { HostOperations } from "./hostfs-parts/operations";
import { MAX_HANDLES } from "./hostfs-parts/handles";
import { fileSystemAttach } from "../lib/contracts/fs";

const DEVICE: i32 = 3;
const INTERRUPT: i32 = 4;
const MEMORY: i32 = 5;
const PUBLISHED: i32 = 6;
/** Contract FileSystem keeps a queue slot for each capability minted (docs/CONTRACTS.md): every handle, the roots and their copies, the service's. */
const CALL_QUEUE: u32 = <u32>MAX_HANDLES + 64;
/** The name the server registers (its service capability: FS_INFO only). */
const HOST_SERVICE = "host";

function fail(what: string, status: i32): void {
  lineBegin("hostfs: ");
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
  // No share device: init gave this line none (a machine booted without --share skips it, but a
  // config may still start it). Nothing to serve, and nothing a restart would change: exit 0.
  lineBegin("hostfs: no host share device (boot with --share DIR): nothing to serve");
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
if (!registers.isKind(KIND_SHARE)) {
  lineBegin("hostfs: slot 3 is not a host share device (kind ");
  lineAddU32(registers.get(1));
  lineAdd(")");
  linePrint(STDERR);
  exit(1);
}
const window = check("create the DMA window", home.createRegion(WINDOW_PAGES));
const windowInfo = new Region(window).info();
check("read the DMA window's address", windowInfo.status);
check("give the device its DMA window", device.dma(window));
const interrupts = new Receiver(check("create the interrupt Receiver", home.createReceiver(1)));
const interrupt = new Interrupt(INTERRUPT);
check("bind the interrupt", interrupt.bind(<u32>check("mint", interrupts.mint(0, RIGHT_RECEIVER_SEND)) | CAP_MOVE));
const share = new ShareQueue(registers, <usize>windowInfo.address, interrupts.cap, interrupt);
const configured = share.configure();
if (configured != 0) {
  lineBegin("hostfs: the device refused the ring: error ");
  lineAddU32(configured);
  linePrint(STDERR);
  exit(1);
}
const calls = new Receiver(check("create the call Receiver", home.createReceiver(CALL_QUEUE)));
// Before anything is minted from it: every message on its capabilities is contract FileSystem's.
check("give the call Receiver contract FileSystem", fileSystemAttach(calls.cap));
const ops = new HostOperations(share, calls);
const published = capKind(PUBLISHED) == <i32>KIND_CAPPAGE;
if (published) {
  const page = new Cappage(PUBLISHED);
  const first = check("open the share's root", ops.openRoot(FS_RIGHT_READ));
  const second = check("open the share's root", ops.openRoot(FS_RIGHT_READ));
  check("publish the root", page.put(0, <u32>check("mint", calls.mint(<u32>first, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
  check("publish the root", page.put(1, <u32>check("mint", calls.mint(<u32>second, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
}
check("register", registryRegister(HOST_SERVICE, <u32>check("mint the service capability", calls.mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
lineBegin("hostfs: the host share, read-only; serving \"host\"");
if (!published) lineAdd(" (no Cappage at slot 6: no root published)");
linePrint();

let status = calls.receive();
for (;;) {
  if (status < 0) break;
  const replyCap = msgReply();
  const label = ops.handle();
  if (replyCap == 0) {
    // A send: nobody to answer. What it brought goes (the reply built would have moved it back).
    for (let i = 0; i < ops.reply.capCount; i++) capDrop(unchecked(ops.reply.caps[i]));
    status = calls.receive();
    continue;
  }
  msgSetLabel(label);
  if (ops.opened >= 0) {
    // A new handle whose reply fails must not stay open.
    if (reply(replyCap) < 0) {
      ops.handles.close(ops.opened);
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
lineBegin("hostfs: receiver gone: ");
lineAdd(errorName(status));
linePrint(STDERR);
exit(1);
