// fsck: checks every invariant of the file system's format (docs/FS.md "Invariants") on the disk
// behind the block driver and reports each problem in a line of its own; with --repair it mends
// what it can, through the journal, and checks again. Without --repair it only reads. A committed
// transaction still in the journal is part of the file system's state (the server replays it at
// mount), so its images are read in place of the blocks they replace.
// Config (instead of the server, never beside one): `service fsck fsck memory=1024` to check,
// `memory=4096 ... -- --repair` to mend (user/boot/fsck.conf, fsck-repair.conf); with a `control`
// grant it halts the machine when it is done.
// Slots: 2 the registry, 3 a Memory, 4 init's control capability (optional). Exits 0 when the disk
// is clean (after repair, when asked), 1 when it is not, 2 when it cannot read the disk.
import {
  args, exit, capKind, lineBegin, lineAdd, lineAddU32, linePrint, msgBegin, msgInvoke, KIND_RECEIVER,
} from "../lib";
import { SB_FLAG_INSTALL_PENDING, SB_REFUSED, SB_VALID, SB_VERSION_1 } from "./fs-parts/format";
import { Found, find, write as writeSuperblocks } from "./fs-parts/superblock";
import { Volume } from "./fs-parts/volume";
import { Repair } from "./fsck-parts/repair";
import { MAX_BLOCKS, Scan } from "./fsck-parts/scan";
import { checkJournal, disk, fatal, forgetJournal, layout } from "./fsck-parts/view";

const CONTROL: i32 = 4;
const CONTROL_HALT: u32 = 1;
/** Rounds of repair at most: a fix can uncover another (an inode cleared leaves entries that name it). */
const MAX_ROUNDS: i32 = 4;

const argv = args();
const repairing = argv.length > 1 && argv[1] == "--repair";

function say(line: string): void {
  lineBegin(line);
  linePrint();
}

/** Ends with `code`, halting the machine first when init gave a control capability. */
function finish(code: i32): void {
  if (capKind(CONTROL) == <i32>KIND_RECEIVER) {
    msgBegin(CONTROL_HALT);
    msgInvoke(CONTROL);
  }
  exit(code);
}

let status = disk.connect();
if (status < 0) fatal("find the block driver", status);
const blocks = min(disk.blocks, <u64>MAX_BLOCKS);
const found = new Found();
find(disk, blocks, layout, found);
if (found.status < 0) fatal("read the superblock", found.status);
if (found.kind != SB_VALID) {
  say("fsck: superblock: " + found.why);
  say(found.kind == SB_REFUSED ? "fsck: not a disk this fsck checks" : "fsck: no superblock to check the rest from (dogma boot --format makes a new file system)");
  say("fsck: 1 problem");
  finish(1);
}
let superblockProblems = 0;
lineBegin("fsck: ");
lineAddU32(layout.total);
lineAdd(" blocks, ");
lineAddU32(layout.inodeCount);
lineAdd(" inodes, journal ");
lineAddU32(layout.journalBlocks);
lineAdd(" blocks, format version ");
lineAddU32(layout.version);
linePrint();
if (layout.version == SB_VERSION_1) say("fsck: format version 1: the file system server upgrades it to version 2 when it mounts it");
if (found.fromBackup) {
  superblockProblems++;
  say("fsck: superblock: " + found.primaryProblem + "; its backup (block " + layout.backup.toString() + ") is whole" + (repairing ? ": written back" : ""));
} else if (found.backupStale) {
  superblockProblems++;
  say("fsck: the backup superblock (block " + layout.backup.toString() + ") differs from the superblock" + (repairing ? ": written again" : ""));
}
if (repairing && superblockProblems > 0) {
  status = writeSuperblocks(disk, layout);
  if (status < 0) fatal("write the superblock", status);
}
const installPending = (layout.flags & SB_FLAG_INSTALL_PENDING) != 0;
if (installPending) {
  say("fsck: the first-boot install has not finished: /bin and /etc may lack files (the file system server finishes it at its next start with the boot modules)");
}
checkJournal();

const scan = new Scan();
let volume: Volume | null = null;
if (repairing) {
  // The journal goes in place first, as a mount would; the server's volume makes every fix.
  const v = new Volume(disk);
  copyLayout(v);
  status = v.journal.replay();
  if (status < 0) fatal("replay the journal", status);
  forgetJournal();
  if (v.bitmap.snapshot(true) < 0) fatal("read the bitmap", -1);
  volume = v;
}
let problems = scan.run();
if (repairing && (problems > 0 || scan.orphans > 0)) {
  const repair = new Repair(volume!);
  let rounds = 0;
  while (rounds < MAX_ROUNDS && (problems > scan.fixes.unfixable || scan.orphans > 0)) {
    rounds++;
    status = repair.run(scan);
    if (status < 0) fatal("repair", status);
    scan.quiet = true;
    problems = scan.run();
  }
  lineBegin("fsck: repaired: ");
  lineAddU32(<u32>repair.made);
  lineAdd(repair.made == 1 ? " fix" : " fixes");
  lineAdd(", in ");
  lineAddU32(<u32>rounds);
  lineAdd(rounds == 1 ? " round; checking again" : " rounds; checking again");
  linePrint();
  scan.quiet = false;
  problems = scan.run();
  superblockProblems = 0;
}
if (scan.orphans > 0) {
  lineBegin("fsck: ");
  lineAddU32(scan.orphans);
  lineAdd(scan.orphans == 1 ? " orphan (a file unlinked while it was open): the next mount frees it" : " orphans (files unlinked while they were open): the next mount frees them");
  linePrint();
}
const total = problems + superblockProblems + (installPending ? 1 : 0);
if (total == 0) {
  lineBegin("fsck: clean: ");
  lineAddU32(scan.files);
  lineAdd(" files, ");
  lineAddU32(scan.directories);
  lineAdd(" directories, ");
  lineAddU32(scan.symlinks);
  lineAdd(scan.symlinks == 1 ? " symbolic link, " : " symbolic links, ");
  lineAddU32(scan.blocksInUse);
  lineAdd(" blocks in use");
  linePrint();
  finish(0);
}
if (problems > 50) {
  lineBegin("fsck: ... and ");
  lineAddU32(<u32>(problems - 50));
  lineAdd(" more");
  linePrint();
}
lineBegin("fsck: ");
lineAddU32(<u32>total);
lineAdd(total == 1 ? " problem" : " problems");
linePrint();
finish(1);

function copyLayout(v: Volume): void {
  const to = v.layout;
  to.total = layout.total;
  to.journal = layout.journal;
  to.journalBlocks = layout.journalBlocks;
  to.bitmap = layout.bitmap;
  to.bitmapBlocks = layout.bitmapBlocks;
  to.inodes = layout.inodes;
  to.inodeBlocks = layout.inodeBlocks;
  to.inodeCount = layout.inodeCount;
  to.data = layout.data;
  to.backup = layout.backup;
  to.version = layout.version;
  to.formattedAt = layout.formattedAt;
  to.flags = layout.flags;
  to.formatRequest = layout.formatRequest;
  to.sequence = layout.sequence;
}

