// fsck: checks every invariant of the file system's format (docs/FS.md "Invariants") on the disk
// behind the block driver, and reports each problem in a line of its own. It only reads. A
// committed transaction still in the journal is part of the file system's state (the server
// replays it at mount), so its images are read in place of the blocks they replace.
// Config (before the server, or instead of it; never beside a server that writes):
//   service fsck fsck memory=1024
// Slots: 2 the registry, 3 a Memory. Exits 0 when the disk is clean, 1 when it is not, 2 when it
// cannot read the disk.
import { exit, lineBegin, lineAdd, lineAddU32, lineAddU64, linePrint, STDERR } from "../lib";
import { blockErrorName } from "../lib/block-client";
import { Disk } from "./fs-parts/disk";
import {
  BLOCK_BYTES, BLOCK_SHIFT, D_INODE_AT, D_KIND_AT, D_NAME_AT, D_NAME_LENGTH_AT, DIRECT_BLOCKS, DIRENT_BYTES,
  DIRENTS_PER_BLOCK, I_BLOCKS_AT, I_DIRECT_AT, I_DOUBLE_AT, I_KIND_AT, I_PARENT_AT, I_SINGLE_AT, I_SIZE_AT,
  INODE_BYTES, INODES_PER_BLOCK, JOURNAL_MAGIC, JH_CHECKSUM_AT, JH_COUNT_AT, JH_MAGIC_AT, JH_SEQUENCE_AT,
  JH_TARGETS_AT, KIND_DIR, KIND_FILE, KIND_FREE, Layout, MAX_FILE_BYTES, POINTERS_PER_BLOCK, ROOT_INODE,
  checksum, readSuperblock,
} from "./fs-parts/format";
import { validName } from "./fs-parts/paths";

const MEMORY: i32 = 3;
const MAX_BLOCKS: u32 = 1 << 20;
const MAX_INODES: u32 = MAX_BLOCKS / 4;
const MAX_REPORTED: i32 = 50;
const NONE: u32 = 0xffffffff;

const block: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const inodeBlock: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const inode: usize = memory.data(<i32>INODE_BYTES, 8);
const level1: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const level2: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const dirBlock: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const journalHeader: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const bitmap: usize = memory.data(<i32>(MAX_BLOCKS / 8));
const used: usize = memory.data(<i32>(MAX_BLOCKS / 8));
const kinds: usize = memory.data(<i32>MAX_INODES);
const names: usize = memory.data(<i32>MAX_INODES);
const parents = new StaticArray<u32>(<i32>MAX_INODES);
const queue = new StaticArray<u32>(<i32>MAX_INODES);

const disk = new Disk(MEMORY);
const layout = new Layout();
let problems: i32 = 0;
let overlayCount: u32 = 0;

function problem(): void {
  problems++;
}

function report(): void {
  if (problems <= MAX_REPORTED) linePrint();
}

function fatal(what: string, status: i32): void {
  lineBegin("fsck: cannot ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(blockErrorName(status));
  linePrint(STDERR);
  exit(2);
}

// Reads `b` as the file system sees it: from the journal when its transaction replaces it.
function readBlock(b: u32, to: usize): void {
  for (let i: u32 = 0; i < overlayCount; i++) {
    if (load<u32>(journalHeader + JH_TARGETS_AT + (<usize>i << 2)) == b) {
      const status = disk.read(<u64>(layout.journal + 1 + i), 1, to);
      if (status < 0) fatal("read the journal", status);
      return;
    }
  }
  const status = disk.read(<u64>b, 1, to);
  if (status < 0) fatal("read block " + b.toString(), status);
}

function isUsed(b: u32): bool {
  return (load<u8>(used + (b >> 3)) & (<u32>1 << (b & 7))) != 0;
}

function markUsed(b: u32): void {
  store<u8>(used + (b >> 3), load<u8>(used + (b >> 3)) | <u8>(<u32>1 << (b & 7)));
}

function bitmapSays(b: u32): bool {
  return (load<u8>(bitmap + (b >> 3)) & (<u32>1 << (b & 7))) != 0;
}

// ---- The journal ---------------------------------------------------------------------------------

function checkJournal(): void {
  readBlock(layout.journal, journalHeader);
  lineBegin("fsck: journal: ");
  if (load<u64>(journalHeader + JH_MAGIC_AT) != JOURNAL_MAGIC) {
    lineAdd("empty");
    linePrint();
    return;
  }
  const count = load<u32>(journalHeader + JH_COUNT_AT);
  const capacity = layout.journalBlocks - 1;
  let whole = count > 0 && count <= capacity && count <= (BLOCK_BYTES - <u32>JH_TARGETS_AT) / 4;
  for (let i: u32 = 0; whole && i < count; i++) {
    const t = load<u32>(journalHeader + JH_TARGETS_AT + (<usize>i << 2));
    if (t < layout.bitmap || t >= layout.total) whole = false;
  }
  if (whole) {
    const wanted = load<u64>(journalHeader + JH_CHECKSUM_AT);
    store<u64>(journalHeader + JH_CHECKSUM_AT, 0);
    let sum = checksum(journalHeader, BLOCK_BYTES, 0);
    store<u64>(journalHeader + JH_CHECKSUM_AT, wanted);
    for (let i: u32 = 0; i < count; i++) {
      const status = disk.read(<u64>(layout.journal + 1 + i), 1, block);
      if (status < 0) fatal("read the journal", status);
      sum = checksum(block, BLOCK_BYTES, sum);
    }
    whole = sum == wanted;
  }
  lineAdd("transaction ");
  lineAddU64(load<u64>(journalHeader + JH_SEQUENCE_AT));
  lineAdd(" of ");
  lineAddU32(count);
  lineAdd(whole ? " blocks, committed: checked as replayed" : " blocks, torn (never committed): ignored");
  linePrint();
  if (whole) overlayCount = count;
}

// ---- Inodes and their block maps -----------------------------------------------------------------

let counted: u32 = 0;
let highestIndex: u64 = 0;
let holeInDirectory = false;

// Claims block `b` for inode `ino`: in range, and nobody else's.
function claim(ino: u32, b: u32, what: string): bool {
  if (b < layout.data || b >= layout.total) {
    problem();
    lineBegin("fsck: inode ");
    lineAddU32(ino);
    lineAdd(": ");
    lineAdd(what);
    lineAdd(" points to block ");
    lineAddU32(b);
    lineAdd(", outside the data area");
    report();
    return false;
  }
  if (isUsed(b)) {
    problem();
    lineBegin("fsck: inode ");
    lineAddU32(ino);
    lineAdd(": block ");
    lineAddU32(b);
    lineAdd(" (");
    lineAdd(what);
    lineAdd(") is already used by another inode");
    report();
    return false;
  }
  markUsed(b);
  counted++;
  return true;
}

function dataBlock(ino: u32, index: u64, b: u32): void {
  if (!claim(ino, b, "a data block")) return;
  if (index + 1 > highestIndex) highestIndex = index + 1;
}

function walkSingle(ino: u32, b: u32, base: u64, table: usize): void {
  if (!claim(ino, b, "an indirect block")) return;
  readBlock(b, table);
  for (let i: u32 = 0; i < POINTERS_PER_BLOCK; i++) {
    const p = load<u32>(table + (<usize>i << 2));
    if (p != 0) dataBlock(ino, base + i, p);
  }
}

function checkMap(ino: u32): void {
  counted = 0;
  highestIndex = 0;
  for (let i: u32 = 0; i < DIRECT_BLOCKS; i++) {
    const p = load<u32>(inode + I_DIRECT_AT + (<usize>i << 2));
    if (p != 0) dataBlock(ino, i, p);
  }
  const single = load<u32>(inode + I_SINGLE_AT);
  if (single != 0) walkSingle(ino, single, DIRECT_BLOCKS, level1);
  const double = load<u32>(inode + I_DOUBLE_AT);
  if (double != 0 && claim(ino, double, "the double indirect block")) {
    readBlock(double, level2);
    for (let i: u32 = 0; i < POINTERS_PER_BLOCK; i++) {
      const p = load<u32>(level2 + (<usize>i << 2));
      if (p != 0) walkSingle(ino, p, <u64>DIRECT_BLOCKS + POINTERS_PER_BLOCK + <u64>i * POINTERS_PER_BLOCK, level1);
    }
  }
}

function inodeProblem(ino: u32, what: string): void {
  problem();
  lineBegin("fsck: inode ");
  lineAddU32(ino);
  lineAdd(": ");
  lineAdd(what);
  report();
}

function checkInodes(): void {
  for (let ino: u32 = 1; ino < layout.inodeCount; ino++) {
    if (ino == 1 || ino % INODES_PER_BLOCK == 0) readBlock(layout.inodes + ino / INODES_PER_BLOCK, inodeBlock);
    memory.copy(inode, inodeBlock + <usize>((ino % INODES_PER_BLOCK) * INODE_BYTES), INODE_BYTES);
    const kind = load<u32>(inode + I_KIND_AT);
    store<u8>(kinds + ino, <u8>kind);
    unchecked((parents[ino] = load<u32>(inode + I_PARENT_AT)));
    if (kind == KIND_FREE) {
      let stray = false;
      for (let at: usize = 0; at < <usize>INODE_BYTES; at += 4) if (at != 92 && load<u32>(inode + at) != 0) stray = true;
      if (stray) inodeProblem(ino, "free, but not cleared");
      continue;
    }
    if (kind != KIND_FILE && kind != KIND_DIR) {
      inodeProblem(ino, "unknown kind " + kind.toString());
      store<u8>(kinds + ino, 0);
      continue;
    }
    const size = load<u64>(inode + I_SIZE_AT);
    if (size > MAX_FILE_BYTES) inodeProblem(ino, "size " + size.toString() + " is past the largest file");
    checkMap(ino);
    const owned = load<u32>(inode + I_BLOCKS_AT);
    if (owned != counted) inodeProblem(ino, "says it owns " + owned.toString() + " blocks, but maps " + counted.toString());
    const sizeBlocks = (size + BLOCK_BYTES - 1) >> BLOCK_SHIFT;
    if (highestIndex > sizeBlocks) inodeProblem(ino, "maps block " + (highestIndex - 1).toString() + ", past its size " + size.toString());
    if (kind == KIND_DIR && (size & (BLOCK_BYTES - 1)) != 0) inodeProblem(ino, "a directory whose size " + size.toString() + " is not whole blocks");
  }
  if (load<u8>(kinds + ROOT_INODE) != <u8>KIND_DIR) inodeProblem(ROOT_INODE, "the root is not a directory");
  else if (unchecked(parents[ROOT_INODE]) != ROOT_INODE) inodeProblem(ROOT_INODE, "the root's parent is not itself");
}

// ---- Directories ---------------------------------------------------------------------------------

let files: u32 = 0;
let directories: u32 = 0;

// The disk block of block `index` of directory `dir` (whose inode is in `inode`): 0 for a hole.
function directoryBlock(index: u32): u32 {
  if (index < DIRECT_BLOCKS) return load<u32>(inode + I_DIRECT_AT + (<usize>index << 2));
  index -= DIRECT_BLOCKS;
  if (index < POINTERS_PER_BLOCK) {
    const single = load<u32>(inode + I_SINGLE_AT);
    if (single == 0 || single >= layout.total) return 0;
    readBlock(single, level1);
    return load<u32>(level1 + (<usize>index << 2));
  }
  index -= POINTERS_PER_BLOCK;
  const double = load<u32>(inode + I_DOUBLE_AT);
  if (double == 0 || double >= layout.total) return 0;
  readBlock(double, level2);
  const single = load<u32>(level2 + (<usize>(index / POINTERS_PER_BLOCK) << 2));
  if (single == 0 || single >= layout.total) return 0;
  readBlock(single, level1);
  return load<u32>(level1 + (<usize>(index % POINTERS_PER_BLOCK) << 2));
}

function entryProblem(dir: u32, index: u32, what: string): void {
  problem();
  lineBegin("fsck: directory inode ");
  lineAddU32(dir);
  lineAdd(", entry ");
  lineAddU32(index);
  lineAdd(": ");
  lineAdd(what);
  report();
}

function readInode(ino: u32): void {
  readBlock(layout.inodes + ino / INODES_PER_BLOCK, inodeBlock);
  memory.copy(inode, inodeBlock + <usize>((ino % INODES_PER_BLOCK) * INODE_BYTES), INODE_BYTES);
}

function checkDirectory(dir: u32, tail: i32): i32 {
  // Names seen in this directory so far, and the entry that has each (a one-shot program: it may allocate).
  const seenNames = new Map<string, u32>();
  readInode(dir);
  const blocks = <u32>(load<u64>(inode + I_SIZE_AT) >> BLOCK_SHIFT);
  for (let b: u32 = 0; b < blocks; b++) {
    readInode(dir);
    const disk = directoryBlock(b);
    if (disk == 0 || disk < layout.data || disk >= layout.total) {
      entryProblem(dir, b * DIRENTS_PER_BLOCK, "its block " + b.toString() + " is a hole or out of range");
      continue;
    }
    readBlock(disk, dirBlock);
    for (let e: u32 = 0; e < DIRENTS_PER_BLOCK; e++) {
      const entry = dirBlock + <usize>(e * DIRENT_BYTES);
      const index = b * DIRENTS_PER_BLOCK + e;
      const ino = load<u32>(entry + D_INODE_AT);
      if (ino == 0) continue;
      const length = <u32>load<u16>(entry + D_NAME_LENGTH_AT);
      if (!validName(entry + D_NAME_AT, length)) entryProblem(dir, index, "a name the format does not allow (" + length.toString() + " bytes)");
      const name = String.UTF8.decodeUnsafe(entry + D_NAME_AT, min(length, 255));
      if (seenNames.has(name)) entryProblem(dir, index, "the same name as entry " + seenNames.get(name).toString());
      else seenNames.set(name, index);
      if (ino >= layout.inodeCount || ino == ROOT_INODE) {
        entryProblem(dir, index, "names inode " + ino.toString() + ", which no entry may name");
        continue;
      }
      const kind = <u32>load<u8>(kinds + ino);
      if (kind == KIND_FREE) {
        entryProblem(dir, index, "names inode " + ino.toString() + ", which is free");
        continue;
      }
      if (<u32>load<u8>(entry + D_KIND_AT) != kind) entryProblem(dir, index, "its kind differs from inode " + ino.toString() + "'s");
      if (unchecked(parents[ino]) != dir) entryProblem(dir, index, "inode " + ino.toString() + " names another parent (" + unchecked(parents[ino]).toString() + ")");
      const seen = load<u8>(names + ino);
      if (seen != 0) {
        entryProblem(dir, index, "inode " + ino.toString() + " has a name elsewhere already");
        continue;
      }
      store<u8>(names + ino, 1);
      if (kind == KIND_DIR) {
        directories++;
        unchecked((queue[tail++] = ino));
      } else files++;
    }
  }
  return tail;
}

function checkTree(): void {
  store<u8>(names + ROOT_INODE, 1);
  directories = 1;
  unchecked((queue[0] = ROOT_INODE));
  let head = 0;
  let tail = 1;
  while (head < tail) tail = checkDirectory(unchecked(queue[head++]), tail);
  for (let ino: u32 = 2; ino < layout.inodeCount; ino++) {
    if (load<u8>(kinds + ino) != 0 && load<u8>(names + ino) == 0) inodeProblem(ino, "in use, but no directory names it");
  }
}

// ---- The bitmap ----------------------------------------------------------------------------------

function checkBitmap(): u32 {
  for (let b: u32 = 0; b < layout.bitmapBlocks; b++) readBlock(layout.bitmap + b, bitmap + (<usize>b << BLOCK_SHIFT));
  let inUse: u32 = 0;
  for (let b: u32 = 0; b < layout.total; b++) {
    const should = b < layout.data || isUsed(b);
    const says = bitmapSays(b);
    if (says) inUse++;
    if (should == says) continue;
    problem();
    lineBegin("fsck: block ");
    lineAddU32(b);
    lineAdd(should ? ": in use, but free in the bitmap" : ": marked in use, but nothing refers to it");
    report();
  }
  // Bits past the end of the disk must be clear.
  const bits = layout.bitmapBlocks * BLOCK_BYTES * 8;
  for (let b = layout.total; b < bits; b++) {
    if (bitmapSays(b)) {
      problem();
      lineBegin("fsck: the bitmap marks block ");
      lineAddU32(b);
      lineAdd(", past the end of the disk");
      report();
      break;
    }
  }
  return inUse;
}

// ---- Main ----------------------------------------------------------------------------------------

let status = disk.connect();
if (status < 0) fatal("find the block driver", status);
status = disk.read(0, 1, block);
if (status < 0) fatal("read the superblock", status);
const why = readSuperblock(block, layout, min(disk.blocks, <u64>MAX_BLOCKS));
if (why.length > 0) {
  lineBegin("fsck: superblock: ");
  lineAdd(why);
  linePrint();
  lineBegin("fsck: 1 problem");
  linePrint();
  exit(1);
}
lineBegin("fsck: ");
lineAddU32(layout.total);
lineAdd(" blocks, ");
lineAddU32(layout.inodeCount);
lineAdd(" inodes, journal ");
lineAddU32(layout.journalBlocks);
lineAdd(" blocks");
linePrint();
checkJournal();
checkInodes();
checkTree();
const inUse = checkBitmap();
if (problems == 0) {
  lineBegin("fsck: clean: ");
  lineAddU32(files);
  lineAdd(" files, ");
  lineAddU32(directories);
  lineAdd(" directories, ");
  lineAddU32(inUse);
  lineAdd(" blocks in use");
  linePrint();
  exit(0);
}
if (problems > MAX_REPORTED) {
  lineBegin("fsck: ... and ");
  lineAddU32(<u32>(problems - MAX_REPORTED));
  lineAdd(" more");
  linePrint();
}
lineBegin("fsck: ");
lineAddU32(<u32>problems);
lineAdd(problems == 1 ? " problem" : " problems");
linePrint();
exit(1);
