// The host folder server's open-handle table, over a BadgeTable (user/lib/badge-table.ts) as the
// host share's is (hostfs-parts/handles.ts): badge = generation << 11 | (index + 1), CLOSE bumps
// the generation. An entry holds what it names as a path from the folder's root (names separated
// by '/', "" for the root), its kind, its rights, its stream position, and for a file the id of
// the host file the device holds open for it (0: none). An entry the table takes back when it is
// full still holds its file id: `opened` hands it over so the server closes that file first.
// An attached handle (ATTACH, docs/FS.md "Attached handles") names the same host file as the
// handle it was made from: a file id is closed when the last entry naming it goes (`users`). It
// also holds its read buffer (a Region the server owns, a view of which the client has) and the
// view of the client's buffer ATTACH brought; both go with the entry, however it goes.
// Each file entry keeps the host file's inode, so that a change of the file through any entry
// bumps the change word of every attached entry on the same file (`changed`): the word a client
// reading ahead out of its read buffer looks at (docs/HOSTFS.md "Reading ahead").
import { BadgeTable } from "../../lib/badge-table";
import { capDrop } from "../../lib/caps/capability";
import { RECLAIM_IDLE_NS } from "../fs-parts/handles";
import { PATH_MAX } from "../hostfs-parts/share";

export const MAX_HANDLES: i32 = 512;

const kindOf = new StaticArray<u32>(MAX_HANDLES);
const rightsOf = new StaticArray<u32>(MAX_HANDLES);
const positionOf = new StaticArray<u64>(MAX_HANDLES);
const fileOf = new StaticArray<u32>(MAX_HANDLES);
const pathLengthOf = new StaticArray<u32>(MAX_HANDLES);
/** An attached entry's read buffer: the owner capability (0: not attached), its address and bytes. */
const readRegionOf = new StaticArray<i32>(MAX_HANDLES);
const readAddressOf = new StaticArray<usize>(MAX_HANDLES);
const readBytesOf = new StaticArray<u32>(MAX_HANDLES);
/** An attached entry's view of the client's buffer (0: none), its address and bytes. */
const writeViewOf = new StaticArray<i32>(MAX_HANDLES);
const writeAddressOf = new StaticArray<usize>(MAX_HANDLES);
const writeBytesOf = new StaticArray<u32>(MAX_HANDLES);
/** Each entry's host inode (0: none known: a change of any file bumps its change word). */
const inodeOf = new StaticArray<u64>(MAX_HANDLES);
/** The attached entries, `attached` of them, in no order: what `changed` looks through. */
const attachedList = new StaticArray<i32>(MAX_HANDLES);
/** Each entry's place in attachedList (while attached). */
const attachedAt = new StaticArray<i32>(MAX_HANDLES);
/** Each entry's path: PATH_MAX bytes of its own. */
const pathBytes: usize = heap.alloc(<usize>PATH_MAX * <usize>MAX_HANDLES);

export class FolderHandles {
  private readonly table: BadgeTable = new BadgeTable(MAX_HANDLES, RECLAIM_IDLE_NS);
  /** The file id an entry taken back from a full table still held (0: none, or another entry still names it), for the server to close. */
  orphanedFile: u32 = 0;
  /** The file id the last `close` let go of (0: none, or another entry still names it), for the server to close. */
  closedFile: u32 = 0;
  /** Attached entries open now. */
  attached: i32 = 0;
  /** Entries naming each host file id open. */
  private readonly users: Map<u32, u32> = new Map<u32, u32>();

  get used(): i32 {
    return this.table.used;
  }
  get reclaimed(): u32 {
    return this.table.reclaimed;
  }

  /** A new entry (`inode`: the host file's, 0 for none): its index, or -1 when the table is full. */
  open(path: usize, length: u32, kind: u32, rights: u32, file: u32, inode: u64 = 0): i32 {
    this.orphanedFile = 0;
    if (length > PATH_MAX) return -1;
    const i = this.table.take();
    if (i < 0) return -1;
    this.orphanedFile = this.letGo(unchecked(fileOf[i]));
    this.detach(i);
    this.hold(file);
    unchecked((kindOf[i] = kind));
    unchecked((rightsOf[i] = rights));
    unchecked((positionOf[i] = 0));
    unchecked((fileOf[i] = file));
    unchecked((inodeOf[i] = inode));
    unchecked((pathLengthOf[i] = length));
    memory.copy(this.path(i), path, length);
    return i;
  }

  badge(index: i32): u32 {
    return this.table.badge(index);
  }
  lookup(badge: u32): i32 {
    return this.table.lookup(badge);
  }
  /** Frees entry `index`: false if it is pinned. The file id it held is the caller's to close. */
  close(index: i32): bool {
    this.closedFile = 0;
    if (!this.table.close(index)) return false;
    this.closedFile = this.letGo(unchecked(fileOf[index]));
    unchecked((fileOf[index] = 0));
    this.detach(index);
    return true;
  }

  /** Entry `index` becomes attached: it keeps `readRegion` (owned here) and `writeView` (the client's buffer, 0: none). */
  attach(index: i32, readRegion: i32, readAddress: usize, readBytes: u32, writeView: i32, writeAddress: usize, writeBytes: u32): void {
    unchecked((readRegionOf[index] = readRegion));
    unchecked((readAddressOf[index] = readAddress));
    unchecked((readBytesOf[index] = readBytes));
    unchecked((writeViewOf[index] = writeView));
    unchecked((writeAddressOf[index] = writeAddress));
    unchecked((writeBytesOf[index] = writeBytes));
    // The change word, in the page after the read buffer's bytes: never 0 while it lives (a freed
    // buffer's view reads 0, which no reply gave).
    store<u32>(readAddress + <usize>readBytes, 1);
    unchecked((attachedAt[index] = this.attached));
    unchecked((attachedList[this.attached] = index));
    this.attached++;
  }

  /** Where entry `index`'s change word lies (attached entries only): in the page after its read buffer's bytes. */
  changeWord(index: i32): usize {
    return unchecked(readAddressOf[index]) + <usize>unchecked(readBytesOf[index]);
  }

  /**
   * The bytes or size of entry `index`'s host file are changing: the change word of every attached
   * entry on the same file (the same inode; every one when it is not known) moves on, so a client
   * that read ahead through one of them asks again. Called before the reply that says the change
   * is made.
   */
  changed(index: i32): void {
    const inode = unchecked(inodeOf[index]);
    for (let k = 0; k < this.attached; k++) {
      const other = unchecked(attachedList[k]);
      const theirs = unchecked(inodeOf[other]);
      if (inode != 0 && theirs != 0 && theirs != inode) continue;
      const word = this.changeWord(other);
      let next = load<u32>(word) + 1;
      if (next == 0) next = 1;
      store<u32>(word, next);
    }
  }

  /** The host inode entry `index` names (0: not known). */
  inode(index: i32): u64 {
    return unchecked(inodeOf[index]);
  }

  /** Whether entry `index` is attached. */
  isAttached(index: i32): bool {
    return unchecked(readRegionOf[index]) != 0;
  }
  readAddress(index: i32): usize {
    return unchecked(readAddressOf[index]);
  }
  readBytes(index: i32): u32 {
    return unchecked(readBytesOf[index]);
  }
  /** Where the client's buffer lies (0: ATTACH brought none). */
  writeAddress(index: i32): usize {
    return unchecked(writeAddressOf[index]);
  }
  writeBytes(index: i32): u32 {
    return unchecked(writeBytesOf[index]);
  }

  // An attached entry's buffers go: the read buffer is freed (its views read zeros), the client's view dropped.
  private detach(index: i32): void {
    const read = unchecked(readRegionOf[index]);
    if (read == 0) return;
    capDrop(read);
    const write = unchecked(writeViewOf[index]);
    if (write != 0) capDrop(write);
    // Out of the attached list: the last one takes its place.
    const at = unchecked(attachedAt[index]);
    const last = unchecked(attachedList[this.attached - 1]);
    unchecked((attachedList[at] = last));
    unchecked((attachedAt[last] = at));
    unchecked((readRegionOf[index] = 0));
    unchecked((writeViewOf[index] = 0));
    unchecked((readBytesOf[index] = 0));
    unchecked((writeBytesOf[index] = 0));
    this.attached--;
  }

  /** One more entry names host file `file` (0: none). */
  private hold(file: u32): void {
    if (file != 0) this.users.set(file, this.users.has(file) ? this.users.get(file) + 1 : 1);
  }

  /** One entry fewer names `file`: the file id when none does any more (the server closes it), else 0. */
  private letGo(file: u32): u32 {
    if (file == 0 || !this.users.has(file)) return 0;
    const left = this.users.get(file) - 1;
    if (left > 0) {
      this.users.set(file, left);
      return 0;
    }
    this.users.delete(file);
    return file;
  }
  pin(index: i32): void {
    this.table.pin(index);
  }

  @inline path(index: i32): usize {
    return pathBytes + <usize>index * <usize>PATH_MAX;
  }
  pathLength(index: i32): u32 {
    return unchecked(pathLengthOf[index]);
  }
  kind(index: i32): u32 {
    return unchecked(kindOf[index]);
  }
  rights(index: i32): u32 {
    return unchecked(rightsOf[index]);
  }
  file(index: i32): u32 {
    return unchecked(fileOf[index]);
  }
  position(index: i32): u64 {
    return unchecked(positionOf[index]);
  }
  setPosition(index: i32, position: u64): void {
    unchecked((positionOf[index] = position));
  }
}
