// First boot: the boot modules become files. With init's `boot-modules` grant the server holds a
// Cappage of the modules' Images (no rights but to map them, IMAGE_MAP) and the boot info, which
// names them; on a disk it formats it writes each module's binary to /bin/NAME, its manifest (the
// binary's dogma.manifest section, docs/MANIFESTS.md) to /etc/manifests/NAME, the installer's
// record of what is installed, and the config to /etc/init.conf, then commits. Runs before the server serves. The superblock says the install is
// pending from the format until it has committed (SB_FLAG_INSTALL_PENDING, fs.ts), so an install
// cut short (the host killed) is done again, whole, at the next start: the directories are taken
// over, and the files an install cut short wrote (in part, maybe) are removed first.
import {
  msgBegin, msgAddWord, msgInvoke, msgCap, msgWord, capDrop, OP_CAPPAGE_GET, OP_IMAGE_MAP, OP_IMAGE_UNMAP, OP_REGION_INFO,
} from "../../lib";
import { FS_E_EXISTS, FS_E_NAME } from "../../lib/fs-protocol";
import { manifestTextIn } from "../../lib/manifest";
import { D_INODE_AT, D_KIND_AT, I_KIND_AT, KIND_DIR, KIND_FILE, ROOT_INODE } from "./format";
import { Operations } from "./operations";
import { validName } from "./paths";
import { Volume } from "./volume";

const PIECE: u32 = 1 << 20;
const NEWLINE: u8 = 0x0a;

export class Installed {
  modules: i32 = 0;
  bytes: u64 = 0;
  config: bool = false;
  /** A status when something failed (what was installed before stays). */
  status: i32 = 0;
}

/** Installs the modules the boot info at `infoCap` names from the Images Cappage `images`. */
export function installBootModules(volume: Volume, ops: Operations, images: i32, infoCap: i32, done: Installed): void {
  msgBegin(OP_REGION_INFO);
  if ((done.status = msgInvoke(infoCap)) < 0) return;
  const base = <usize>msgWord(0);
  const length = load<u32>(base);
  const text = base + 4;
  const bin = makeDirectory(volume, ops, ROOT_INODE, "bin");
  const etc = makeDirectory(volume, ops, ROOT_INODE, "etc");
  // An empty /tmp, where a shell user's `> /tmp/x` expects one (nothing clears it: no boot does).
  const tmp = makeDirectory(volume, ops, ROOT_INODE, "tmp");
  if (bin <= 0 || etc <= 0 || tmp <= 0) {
    done.status = bin <= 0 ? bin : etc <= 0 ? etc : tmp;
    return;
  }
  const manifests = makeDirectory(volume, ops, <u32>etc, "manifests");
  if (manifests <= 0) {
    done.status = manifests;
    return;
  }
  // An install cut short left files there (this boot's modules may be others): nobody else can
  // have, since the server has not served this disk yet.
  done.status = emptyDirectory(volume, ops, <u32>bin);
  if (done.status >= 0) done.status = emptyDirectory(volume, ops, <u32>etc);
  if (done.status >= 0) done.status = emptyDirectory(volume, ops, <u32>manifests);
  if (done.status < 0) return;
  let at: u32 = 0;
  while (at < length) {
    let end = at;
    while (end < length && load<u8>(text + end) != NEWLINE) end++;
    if (isWord(text + at, end - at, "config")) {
      // Everything after this line is the config, verbatim.
      const from = min(end + 1, length);
      done.status = writeFile(volume, ops, <u32>etc, "init.conf", text + from, length - from);
      done.config = done.status >= 0;
      return;
    }
    const index = moduleLine(text + at, end - at);
    if (index >= 0) {
      const status = installModule(volume, ops, <u32>bin, <u32>manifests, images, <u32>index, nameStart, nameLength);
      if (status < 0) {
        done.status = status;
        return;
      }
      done.modules++;
      done.bytes += <u64>status;
    }
    at = end + 1;
  }
}

let nameStart: usize = 0;
let nameLength: u32 = 0;

// "module I NAME": I, with NAME in nameStart/nameLength; -1 for any other line.
function moduleLine(line: usize, length: u32): i32 {
  if (length < 10 || !isWord(line, 7, "module ")) return -1;
  let i: u32 = 7;
  let index: i32 = 0;
  const first = i;
  while (i < length && load<u8>(line + i) >= 0x30 && load<u8>(line + i) <= 0x39) index = index * 10 + <i32>(load<u8>(line + i++) - 0x30);
  if (i == first || i >= length || load<u8>(line + i) != 0x20) return -1;
  nameStart = line + i + 1;
  nameLength = length - i - 1;
  while (nameLength > 0 && load<u8>(nameStart + nameLength - 1) <= 0x20) nameLength--; // a trailing \r or space
  return nameLength > 0 ? index : -1;
}

function isWord(at: usize, length: u32, word: string): bool {
  if (<i32>length != word.length) return false;
  for (let i = 0; i < word.length; i++) if (<i32>load<u8>(at + <usize>i) != word.charCodeAt(i)) return false;
  return true;
}

// Maps Image `index` and writes it to `dir`/NAME, and its manifest, if it has one, to `manifests`/NAME: the bytes written, or a status.
function installModule(volume: Volume, ops: Operations, dir: u32, manifests: u32, images: i32, index: u32, name: usize, length: u32): i32 {
  msgBegin(OP_CAPPAGE_GET);
  msgAddWord(index);
  let status = msgInvoke(images);
  if (status < 0) return status;
  const image = msgCap(0);
  msgBegin(OP_IMAGE_MAP);
  status = msgInvoke(image);
  const size = msgWord(0);
  const address = <usize>msgWord(1);
  if (status < 0) {
    capDrop(image);
    return status;
  }
  status = writeBytes(volume, ops, dir, name, length, address, size);
  const manifest: string | null = status < 0 ? null : manifestTextIn(address, size);
  if (manifest != null) {
    const text = String.UTF8.encode(manifest!);
    status = writeBytes(volume, ops, manifests, name, length, changetype<usize>(text), <u32>text.byteLength);
  }
  unmapImage(image);
  return status < 0 ? status : <i32>size;
}

// Gives the mapping back with the capability (IMAGE_UNMAP): the server is pinned, so the image's
// frames it read would otherwise stay for as long as it runs, nowhere else needed.
function unmapImage(image: i32): void {
  msgBegin(OP_IMAGE_UNMAP);
  if (msgInvoke(image) < 0) capDrop(image);
}

function writeFile(volume: Volume, ops: Operations, dir: u32, name: string, from: usize, size: u32): i32 {
  const bytes = String.UTF8.encode(name);
  return writeBytes(volume, ops, dir, changetype<usize>(bytes), <u32>bytes.byteLength, from, size);
}

// Creates `dir`/NAME as a file holding `size` bytes from `from`, a commit allowed between pieces.
function writeBytes(volume: Volume, ops: Operations, dir: u32, name: usize, length: u32, from: usize, size: u32): i32 {
  if (!validName(name, length)) return FS_E_NAME;
  let status = begin(volume, ops);
  if (status < 0) return status;
  const ino = create(volume, ops, dir, name, length, KIND_FILE);
  if (ino < 0) return ino;
  const file = volume.inode(<u32>ino);
  if (file == 0) return volume.status;
  status = volume.truncate(file, 0); // what an install cut short wrote
  if (status < 0) return status;
  for (let done: u32 = 0; done < size; ) {
    status = begin(volume, ops);
    if (status < 0) return status;
    const at = volume.inode(<u32>ino);
    if (at == 0) return volume.status;
    const piece = min(size - done, PIECE);
    const n = volume.write(at, <u64>done, piece, from + done);
    if (n < 0) return n;
    done += <u32>n;
  }
  return 0;
}

// Removes every file and link `dir` holds (a directory in it stays): 0 or a status.
function emptyDirectory(volume: Volume, ops: Operations, dir: u32): i32 {
  for (let index: u32 = 0; ; index++) {
    const status = begin(volume, ops);
    if (status < 0) return status;
    const at = volume.inode(dir);
    if (at == 0) return volume.status;
    if (index >= ops.dirs.capacity(at)) return 0;
    const entry = ops.dirs.entryAt(at, index);
    if (entry == 0) return volume.status;
    const ino = load<u32>(entry + D_INODE_AT);
    if (ino == 0 || <u32>load<u8>(entry + D_KIND_AT) == KIND_DIR) continue;
    ops.dirs.remove(at, entry);
    const dropped = ops.c.dropLink(ino);
    if (dropped < 0) return dropped;
  }
  return 0;
}

function makeDirectory(volume: Volume, ops: Operations, parent: u32, name: string): i32 {
  const status = begin(volume, ops);
  if (status < 0) return status;
  const bytes = String.UTF8.encode(name);
  return create(volume, ops, parent, changetype<usize>(bytes), <u32>bytes.byteLength, KIND_DIR);
}

// The inode of `kind` named `name` in `parent`, made if it is not there: its number, or a status.
function create(volume: Volume, ops: Operations, parent: u32, name: usize, length: u32, kind: u32): i32 {
  const dir = volume.inode(parent);
  if (dir == 0) return volume.status;
  const found = ops.dirs.lookup(dir, name, length);
  if (found < 0) return found;
  if (found == 1) {
    // An install cut short made it: take it over, if it is of the kind it made.
    const ino = ops.dirs.found.inode;
    const at = volume.inode(ino);
    if (at == 0) return volume.status;
    return load<u32>(at + I_KIND_AT) == kind ? <i32>ino : FS_E_EXISTS;
  }
  const ino = volume.allocateInode(kind, parent);
  if (ino == 0) return volume.status;
  const status = ops.dirs.add(volume.inode(parent), name, length, ino, kind);
  return status < 0 ? status : <i32>ino;
}

// Starts one operation's worth of work: a commit first if the journal or the cache is filling.
function begin(volume: Volume, ops: Operations): i32 {
  volume.cache.beginOperation();
  return ops.maybeCommit();
}
