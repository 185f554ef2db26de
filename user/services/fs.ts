// The file system server (docs/FS.md): a journaled file system on the block device, served to
// holders of directory and file capabilities. Config:
//   service fs fs memory=2048 publish=fs boot-modules control
// Arguments (after `--`): `cache-pages=N` bounds the page cache (docs/FS.md "The page cache");
// `handle-idle-ms=N` is how long a handle must be idle before a full table takes it back (10 s).
// Slots: 2 the registry, 3 a Memory (its metadata cache lives in its own pages; the Memory pays
// for the page cache's Regions, the block buffers and the Receivers), 4 the Cappage init publishes to the lines that say `use=fs`:
// the server puts a root directory capability with every right at slot 0 of it, and a read-only
// one at slot 1; 5 and 6 (boot-modules, optional) the boot modules' Images and the boot info: on
// a disk it formats, it installs them as /bin/NAME and /etc/init.conf (fs-parts/install.ts); then
// (control, optional) init's control capability; and (kernel-info, optional) a Kernel capability
// with no rights, through which the page cache watches the machine's memory (cache-pressure.ts).
// The registry gets `fs`, the service capability, which answers FS_INFO and SYNC only: finding the
// server is no access to its files.
//
// It mounts the disk (formatting it only when it is blank or the boot asked: fs-parts/mount.ts;
// any other disk it cannot read it leaves alone and ends), finishes the first-boot install, then
// serves. A call is handled whole (operations.ts), then answered; while changes are not yet
// committed (metadata, or file data in the page cache) it waits at most half a second for the next
// call, and commits when none comes; while the page cache holds pages it looks at the machine's
// memory between calls and every IDLE_CHECK_NS when idle, and gives pages back when memory is
// short. Before a halt stops it, init tells it, and it commits. Nothing allocates after the start.
import {
  args, exit, errorName, lineBegin, lineAdd, lineAddU32, lineAddU64, linePrint, capKind, capDrop, msgBegin, msgAddTimeout, msgInvoke,
  msgReply, msgSetLabel, reply, replyAndReceiveWithin, registryRegister, Cappage, Memory, Process, Receiver, CAP_MOVE,
  KIND_CAPPAGE, KIND_REGION, KIND_REPLY, KIND_RECEIVER, OP_RECEIVER_RECEIVE, RIGHT_RECEIVER_CALL, RIGHT_RECEIVER_SEND,
  E_INVALID_CAP, E_TIMEOUT, STDERR, FOREVER, msgAddCap, msgBadge, msgWord, capCopy, KIND_KERNEL, OP_MEMORY_INFO,
} from "../lib";
import { CONTROL_FINISHED, CONTROL_ON_HALT } from "../lib/init-control";
import { FS_SERVICE, FS_RIGHTS_ALL, FS_RIGHT_READ, FS_RIGHT_WRITE, fsErrorName } from "../lib/fs-protocol";
import { formatRequest } from "./fs-parts/boot-params";
import { Disk } from "./fs-parts/disk";
import { SB_FLAG_INSTALL_PENDING } from "./fs-parts/format";
import { CachePressure, IDLE_CHECK_NS } from "./fs-parts/cache-pressure";
import { mount, MountOptions, MountReport } from "./fs-parts/mount";
import { Operations } from "./fs-parts/operations";
import { installBootModules, Installed } from "./fs-parts/install";
import { write as writeSuperblocks } from "./fs-parts/superblock";
import { Tokens } from "./fs-parts/tokens";
import { Volume } from "./fs-parts/volume";
import { MAX_HANDLES, READERS_SESSION, SWAP_SESSION } from "./fs-parts/handles";
import { fileSystemAttach } from "../lib/contracts/fs";

const MEMORY: i32 = 3;
const PUBLISHED: i32 = 4;
/** With init's boot-modules grant: the modules' Images (to map) and the boot info that names them. */
const IMAGES: i32 = 5;
const BOOT_INFO: i32 = 6;
/**
 * Contract FileSystem has a one-way message (init's Finish), so the kernel keeps a queue slot for
 * each capability the server mints (docs/CONTRACTS.md "Queue bounds"): the handles (MAX_HANDLES),
 * the service and root capabilities, and the copies of the roots taken from the Cappage init
 * shares (one a user of the file system, two a job of the shell). A mint or copy past that is
 * refused E_QUEUE_FULL.
 */
const CALL_QUEUE: u32 = <u32>MAX_HANDLES + 128;
/** Looks for the block driver every 10 ms this many times: 2 s, well past its start. */
const NO_DRIVER_TRIES: i32 = 200;
/** How long changes may wait for a commit while no call comes. */
const IDLE_COMMIT_NS: u64 = 500_000_000;
/**
 * The badge of the send capability init holds (CONTROL_ON_HALT) to tell the server a halt is
 * coming: no handle's (its index bits are 0, which name no entry).
 */
const FINISH_BADGE: u32 = 1 << 11;

function fail(what: string, status: i32): void {
  lineBegin("fs: ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(fsErrorName(status));
  linePrint(STDERR);
  exit(1);
}

function say(line: string): void {
  lineBegin(line);
  linePrint();
}

function check(what: string, status: i32): i32 {
  if (status < 0) fail(what, status);
  return status;
}

/** Pages of its Memory the server leaves to everything but the page cache, besides its own private pages. */
const MEMORY_RESERVE: i32 = 64;

/**
 * A Kernel capability with no rights (the `kernel-info` grant: KERNEL_INFO and KERNEL_PAGING_INFO),
 * the first after the Cappage; one with rights is copied without them and dropped. 0: none.
 */
function kernelInfo(): i32 {
  for (let slot = PUBLISHED + 1; slot <= BOOT_INFO + 3; slot++) {
    if (capKind(slot) != <i32>KIND_KERNEL) continue;
    const bare = capCopy(slot, 0);
    capDrop(slot);
    return bare > 0 ? bare : 0;
  }
  return 0;
}

/** `NAME=N` among the arguments: N, or -1 when it is not given. */
function numberArgument(name: string): i32 {
  const argv = args();
  for (let i = 1; i < argv.length; i++) {
    if (argv[i].startsWith(name + "=")) return I32.parseInt(argv[i].slice(name.length + 1));
  }
  return -1;
}

/**
 * Lets the page cache grow in the server's Memory: as far as the quota goes once every private
 * page the server may ever touch is paid for — everything below the top of its heap now (static
 * data, the metadata cache, what the start allocated: nothing allocates after it), the pages
 * already touched counted twice — less a reserve; or to `cache-pages=N` (an argument) if that is
 * less. Attached handles' read buffers are made when asked for, from what is left (a full quota
 * gives back a chunk of the cache for one).
 */
function configurePageCache(): void {
  const heapTop = heap.alloc(16); // the bump allocator's top: what lies above it is never touched
  const asked = numberArgument("cache-pages");
  msgBegin(OP_MEMORY_INFO);
  if (msgInvoke(MEMORY) < 0) return;
  const available = <i32>msgWord(2);
  const privatePages = <i32>((heapTop + 4095) >> 12);
  let pages = available - privatePages - MEMORY_RESERVE;
  if (asked >= 0 && asked < pages) pages = asked;
  volume.pages.configure(MEMORY, pages);
  volume.pages.pressure = pressure;
}

check("listen", Process.self().listen(true)); // calls bring Regions
const disk = new Disk(MEMORY);
const found = disk.connect(NO_DRIVER_TRIES);
if (found == E_INVALID_CAP) {
  // A machine without a disk: init skipped the block driver's line. Nothing to serve, and
  // nothing a restart would change, so end as done (init does not restart an exit 0).
  lineBegin("fs: no block driver registered \"block\" within 2 s: no file system on this machine");
  linePrint();
  exit(0);
}
check("find the block driver", found);
const volume = new Volume(disk);
const holdsModules = capKind(IMAGES) == <i32>KIND_CAPPAGE && capKind(BOOT_INFO) == <i32>KIND_REGION;
const options = new MountOptions();
options.willInstall = holdsModules;
if (capKind(BOOT_INFO) == <i32>KIND_REGION) options.formatRequest = formatRequest(BOOT_INFO);
const report = new MountReport();
mount(volume, options, report);
if (report.refused.length > 0) {
  // Never format a disk that holds something without being asked: say what is wrong and what to
  // do, and end as done (init does not restart an exit 0); the system goes on without the disk.
  say("fs: the disk holds no file system this server can mount: " + report.refused);
  say("fs: nothing was written to it. To see what is wrong: dogma boot --config user/boot/fsck.conf; to mend what can be: user/boot/fsck-repair.conf; to erase it and start afresh: dogma boot --format");
  exit(0);
}
if (report.failed.length > 0) fail(report.failed, report.status);
if (report.readOnly) say("fs: the disk is read-only: serving it read-only (nothing is written to it)");
if (report.formatted) say("fs: formatted the disk (" + report.why + ")");
if (report.fromBackup.length > 0) say("fs: the superblock was damaged (" + report.fromBackup + "); mounted with its backup, and wrote it back");
if (report.backupRewritten) say("fs: the backup superblock was out of date; wrote it again");
if (report.upgraded >= 0) say("fs: upgraded the disk to format version 2 (" + report.upgraded.toString() + " inodes)");
if (report.twoSlots) say("fs: upgraded the disk to format version 4 (a journal of two slots)");
if (report.fromVersion3) say("fs: upgraded the disk to format version 4 (journal records that a version 3 server would not replay)");
if (report.orphansFreed > 0) {
  say("fs: freed " + (report.orphansFreed == 1 ? "1 file" : report.orphansFreed.toString() + " files") + " unlinked while open when the machine stopped");
}
const receiver = new Receiver(check("create the receiver", new Memory(MEMORY).createReceiver(CALL_QUEUE)));
// Before anything is minted from it: every message on its capabilities is then contract
// FileSystem's (contracts/fs.contract), and every answer too.
check("give the receiver contract FileSystem", fileSystemAttach(receiver.cap));
const tokens = new Tokens(MEMORY);
check("create the tokens' receiver", tokens.status);
const pressure = new CachePressure(kernelInfo());
configurePageCache();
const ops = new Operations(volume, receiver, tokens, MEMORY);
const handleIdleMs = numberArgument("handle-idle-ms");
if (handleIdleMs >= 0) ops.handles.reclaimIdleNs = <i64>handleIdleMs * 1_000_000;
check("register", registryRegister(FS_SERVICE, <u32>check("mint the service capability", receiver.mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
if (report.installPending && holdsModules && !report.readOnly) {
  const installed = new Installed();
  installBootModules(volume, ops, IMAGES, BOOT_INFO, installed);
  let status = installed.status;
  if (status >= 0) status = ops.commit();
  if (status >= 0) {
    // Done and committed: from now on the install is not pending.
    volume.layout.flags &= ~SB_FLAG_INSTALL_PENDING;
    status = writeSuperblocks(disk, volume.layout);
  }
  lineBegin("fs: installed ");
  lineAddU32(<u32>installed.modules);
  lineAdd(" boot modules in /bin");
  lineAdd(installed.config ? " and the config as /etc/init.conf" : "");
  if (status < 0) {
    lineAdd("; stopped: ");
    lineAdd(fsErrorName(status));
    lineAdd(" (the next start tries again)");
  }
  linePrint();
} else if (report.installPending && !report.readOnly) {
  say("fs: the first-boot install of /bin and /etc has not finished; a start with the boot modules (boot-modules) finishes it");
}
const published = capKind(PUBLISHED) == <i32>KIND_CAPPAGE;
if (published) {
  const page = new Cappage(PUBLISHED);
  const all = check("open the root", ops.openRoot(volume.readOnly ? FS_RIGHT_READ : FS_RIGHTS_ALL));
  // The readers' root is a session of its own (READERS_SESSION): docs/FS.md "Sessions".
  const readOnly = check("open the root", ops.openRoot(FS_RIGHT_READ, READERS_SESSION));
  check("publish the root", page.put(0, <u32>check("mint", receiver.mint(<u32>all, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
  check("publish the root", page.put(1, <u32>check("mint", receiver.mint(<u32>readOnly, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
  // The swap door, for the pager (init's swap=): the root, through which only /swap opens. On a
  // read-only disk it reads only, so that a pager's open of /swap is refused at once (it ends, and
  // the lines after it start) rather than waited for.
  const door = check("open the swap door", ops.openRoot(volume.readOnly ? FS_RIGHT_READ : FS_RIGHT_READ | FS_RIGHT_WRITE, SWAP_SESSION));
  ops.c.handles.swapDoor = ops.c.handles.lookup(<u32>door);
  check("publish the swap door", page.put(2, <u32>check("mint", receiver.mint(<u32>door, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
}
// With a `control` grant (the first call capability after the Cappage and the boot modules), init
// tells the server before a halt stops it, and it commits what it holds (docs/BOOT.md "Halting").
let control: i32 = 0;
// The block driver's capability (looked up at start) may sit in one of these slots when there is
// no grant: it is no control capability (contract BlockDevice refused the ON_HALT sent to it). Nor
// are the server's own Receivers, made at start, which may take a slot here when there is none:
// a mount that read the disk less (an empty journal) made fewer buffers before them.
for (let slot = PUBLISHED + 1; slot <= BOOT_INFO + 2 && control == 0; slot++) {
  if (capKind(slot) == <i32>KIND_RECEIVER && slot != disk.client.service && slot != receiver.cap && slot != tokens.receiver.cap) control = slot;
}
if (control != 0) {
  const finish = check("mint the halt's capability", receiver.mint(FINISH_BADGE, RIGHT_RECEIVER_SEND));
  msgBegin(CONTROL_ON_HALT);
  msgAddCap(<u32>finish | CAP_MOVE);
  check("ask init to say when it halts", msgInvoke(control));
}
if (volume.journal.setAside != 0) {
  // Not an error: a crash tore the newer record, or a damage hit it after it committed; either way
  // the disk holds what the file system last committed, bar what that damage touched.
  lineBegin("fs: journal: the record after transaction ");
  lineAddU64(volume.journal.setAside);
  lineAdd(volume.journal.setAsideDamaged ? " is damaged, its header too" : " is not whole (torn by a crash, or damaged since)");
  lineAdd("; transaction ");
  lineAddU64(volume.journal.setAside);
  lineAdd(" is on the disk already and was not replayed over it");
  linePrint(STDERR);
}
lineBegin("fs: ");
lineAddU32(volume.layout.total);
lineAdd(" blocks of 4 KiB, ");
lineAddU32(volume.bitmap.free);
lineAdd(" free, ");
lineAddU32(volume.freeInodes);
lineAdd(" of ");
lineAddU32(volume.layout.inodeCount);
lineAdd(" inodes free; journal replayed ");
lineAddU32(report.replayed);
lineAdd(" blocks; serving \"fs\"");
if (!published) lineAdd(" (no Cappage at slot 4: no root published)");
linePrint();

/** Whether changes wait for a commit: metadata, or file data in the page cache. */
function pending(): bool {
  return volume.cache.dirtyCount > 0 || volume.pages.dirtyCount > 0;
}

/** Metadata cache slots kept through memory pressure: about what one operation touches. */
const META_KEEP: i32 = 16;

/** Whether the server must wake to look at the machine's memory even when no call comes. */
function watching(): bool {
  return pressure.watching && (volume.pages.chunks > 0 || volume.cache.resident > META_KEEP);
}

// How long to wait for the next call: for ever when everything is committed and nothing is
// watched, else IDLE_COMMIT_NS or IDLE_CHECK_NS.
function idleTimeout(): u64 {
  return pending() ? IDLE_COMMIT_NS : watching() ? IDLE_CHECK_NS : FOREVER;
}

// Receives the next call, for idleTimeout() at most.
function receive(): i32 {
  msgBegin(OP_RECEIVER_RECEIVE);
  msgAddTimeout(idleTimeout());
  return msgInvoke(receiver.cap);
}

// Gives memory back when the kernel is short of it (`force`: look now): a quarter of the page
// cache's chunks, and half the metadata cache's pages above META_KEEP (the server is pinned: what
// it holds, the kernel can never page out).
function relieve(force: bool): void {
  if (!pressure.short(force)) return;
  const meta = volume.cache;
  meta.beginOperation();
  const pages = volume.pages;
  if (pages.chunks > 0) {
    volume.maps.dropAll(); // file maps are memory too: their readers ask the server again
    pages.shrink(pages.chunks - max(1, pages.chunks / 4));
  }
  if (meta.resident > META_KEEP) meta.shrink(META_KEEP + (meta.resident - META_KEEP) / 2);
}

/** Calls between two looks at the machine's memory while serving (relieve). */
const PRESSURE_CALLS: u32 = 16;
let callsSinceLook: u32 = 0;
let status = receive();
for (;;) {
  if (status == E_TIMEOUT) {
    if (pending()) {
      volume.cache.beginOperation();
      const committed = ops.commit();
      if (committed < 0) {
        lineBegin("fs: commit: ");
        lineAdd(fsErrorName(committed));
        linePrint(STDERR);
      }
    }
    relieve(true);
    status = receive();
    continue;
  }
  if (status < 0) break;
  if (msgBadge() == FINISH_BADGE && control != 0) {
    // A halt: commit everything, say so, and wait to be stopped (serving until then).
    volume.cache.beginOperation();
    const committed = ops.commit();
    if (committed < 0) fail("commit before the halt", committed);
    msgBegin(CONTROL_FINISHED);
    msgInvoke(control);
    status = receive();
    continue;
  }
  const replyCap = msgReply();
  ops.capture();
  // Memory, looked at (at most every CHECK_NS) once every PRESSURE_CALLS calls: its clock read is a
  // tenth of a cached read. (The request is copied out: the kernel calls may use the buffer.)
  if (watching() && ++callsSinceLook >= PRESSURE_CALLS) {
    callsSinceLook = 0;
    relieve(false);
  }
  const label = ops.handle();
  if (replyCap == 0) {
    // A send: nobody to answer. What it brought goes (the reply built would have moved it back).
    for (let i = 0; i < ops.reply.capCount; i++) capDrop(unchecked(ops.reply.caps[i]));
    status = receive();
    continue;
  }
  msgSetLabel(label);
  if (ops.opened >= 0) {
    // A new handle whose reply fails (its caller gone) must not stay open: a reply alone says so.
    const answered = reply(replyCap);
    if (answered < 0) {
      ops.handles.close(ops.opened);
      for (let i = 0; i < ops.reply.capCount; i++) capDrop(unchecked(ops.reply.caps[i]));
      if (capKind(replyCap) == <i32>KIND_REPLY) capDrop(replyCap);
    }
    status = receive();
    continue;
  }
  // The reply and the wait for the next call in one invoke, the wait bounded while changes are
  // uncommitted or memory is watched.
  status = replyAndReceiveWithin(replyCap, receiver.cap, idleTimeout());
  if (status < 0 && capKind(replyCap) == <i32>KIND_REPLY) {
    capDrop(replyCap); // a refused reply: the caller's call ends with E_PEER_DEAD
    status = receive();
  }
}
lineBegin("fs: receiver gone: ");
lineAdd(errorName(status));
linePrint(STDERR);
exit(1);
