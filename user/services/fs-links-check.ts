// Symbolic links, hard links, renames, times and tokens from a client's side (test/fs/links):
// loops, dangling links, escapes through ".." and absolute targets from a directory capability,
// trailing slashes, link counts, an unlinked open file that keeps its data until closed, renames
// that replace and move across directories, set-times, "." and "..", tokens that are stale or no
// tokens. Prints "fs-links-check: ok: STEP" for each step and "fs-links-check: all passed", or
// "fs-links-check: FAIL: ..." and exits 1. Config: `service check fs-links-check use=fs memory=1024`.
import {
  exit, print, eprint, capCopy, registryLookup, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgWord, msgWordCount, Memory, Receiver,
  CAP_MOVE, E_MISSING_RIGHT, E_INVALID_ARGUMENT, E_INVALID_CAP, E_WRONG_TYPE, RIGHT_RECEIVER_SEND,
} from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_RIGHT_TIMES, FS_RIGHTS_ALL, FS_OPEN_CREATE, FS_OPEN_EXCLUSIVE,
  FS_OPEN_TRUNCATE, FS_OPEN_DIRECTORY, FS_OPEN_NOFOLLOW, FS_KIND_FILE, FS_KIND_DIR, FS_KIND_SYMLINK, FS_SERVICE,
  FS_E_NOT_FOUND, FS_E_EXISTS, FS_E_NOT_DIR, FS_E_IS_DIR, FS_E_NOT_EMPTY, FS_E_NAME, FS_E_STALE, FS_E_ESCAPE,
  FS_E_LOOP, FS_REMOVE_DIR, FS_REMOVE_FILE, FS_READDIR_DOTS, FS_TIMES_ACCESS, FS_TIMES_MODIFY, FS_TIMES_MODIFY_NOW,
  FS_TIMES_ACCESS_NOW, FS_SYMLINK_MAX, FS_RENAME, FS_STAT_AT, FS_STAT_AT_FOLLOW, FS_READLINK_AT, fsStatus, direntName, direntNameLength, direntNext, direntInode, direntKind,
} from "../lib/fs-client";

import { checkName, expect, ok, check, passed } from "../lib/check-steps";

checkName("fs-links-check");
const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 16);
const scratch: usize = memory.data(512);

function writeText(file: i32, text: string): i32 {
  const n = String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, scratch);
  return fs.writeInline(file, 0, scratch, <u32>n);
}

function readText(dir: i32, path: string): string {
  const file = fs.open(dir, path, FS_RIGHT_READ);
  if (file < 0) return "<" + fsErrorName(file) + ">";
  const n = fs.readInline(file, 0, scratch, 200);
  fs.close(file);
  return n < 0 ? "<" + fsErrorName(n) + ">" : String.UTF8.decodeUnsafe(scratch, <usize>n);
}

function make(dir: i32, path: string, text: string): void {
  const file = ok("create " + path, fs.open(dir, path, FS_RIGHTS_ALL | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  ok("write " + path, writeText(file, text));
  ok("close " + path, fs.close(file));
}

function links(dir: i32, path: string): u32 {
  const handle = ok("open " + path, fs.open(dir, path, FS_RIGHT_READ | FS_OPEN_NOFOLLOW));
  ok("stat " + path, fs.stat(handle));
  fs.close(handle);
  return fs.links;
}

function readlink(dir: i32, path: string): string {
  const n = fs.readlink(dir, path);
  if (n < 0) return "<" + fsErrorName(n) + ">";
  return String.UTF8.decodeUnsafe(fs.address, <usize>n);
}

/** A RENAME under `dir` with `token` (moved) as the destination, as FsClient.renameTo sends it (short paths). */
function renameWithToken(dir: i32, from: string, token: i32, to: string): i32 {
  const a = String.UTF8.encode(from);
  const b = String.UTF8.encode(to);
  memory.copy(scratch, changetype<usize>(a), a.byteLength);
  memory.copy(scratch + <usize>a.byteLength, changetype<usize>(b), b.byteLength);
  store<u32>(scratch + <usize>(a.byteLength + b.byteLength), 0);
  msgBegin(FS_RENAME);
  msgAddWord(<u32>a.byteLength);
  msgAddWord(<u32>b.byteLength);
  for (let i = 0; i < a.byteLength + b.byteLength; i += 4) msgAddWord(load<u32>(scratch + <usize>i));
  msgAddCap(<u32>token | CAP_MOVE);
  const status = msgInvoke(dir);
  return status < 0 ? status : fsStatus(msgLabel());
}

/** STAT_AT (`flags` given) or READLINK_AT (`flags` < 0) of `path` under `dir`: the server's status; the reply's words after. */
function atPath(dir: i32, label: u32, flags: i32, path: string): i32 {
  const bytes = String.UTF8.encode(path);
  memory.copy(scratch, changetype<usize>(bytes), bytes.byteLength);
  store<u32>(scratch + <usize>bytes.byteLength, 0);
  msgBegin(label);
  if (flags >= 0) msgAddWord(<u32>flags);
  msgAddWord(<u32>bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += 4) msgAddWord(load<u32>(scratch + <usize>i));
  const status = msgInvoke(dir);
  return status < 0 ? status : fsStatus(msgLabel());
}

ok("buffer", fs.prepare());
const root = ok("root", fsRoot(SHARED, 0));
ok("mkdir t", fs.mkdir(root, "t"));
const t = ok("open t", fs.open(root, "t", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY));
ok("mkdir t/sub", fs.mkdir(t, "sub"));
const sub = ok("open t/sub", fs.open(t, "sub", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY));

// ---- Symbolic links ------------------------------------------------------------------------------
make(t, "file", "the file");
ok("symlink to file", fs.symlink(t, "file", "ln"));
check("read through a link", readText(t, "ln") == "the file");
check("readlink", readlink(t, "ln") == "file");
expect("readlink of a file", fs.readlink(t, "file"), E_INVALID_ARGUMENT);
// A path's stat and a link's contents in one call each (what OPEN, STAT or READ, and CLOSE did).
ok("STAT_AT through the link", atPath(t, FS_STAT_AT, FS_STAT_AT_FOLLOW, "ln"));
check("what it leads to: the file", msgWord(0) == FS_KIND_FILE && msgWord(1) == 8 && msgWord(2) == 0);
ok("STAT_AT of the link itself", atPath(t, FS_STAT_AT, 0, "ln"));
check("the link, its target's length, no rights", msgWord(0) == FS_KIND_SYMLINK && msgWord(1) == 4 && msgWord(8) == 0);
expect("STAT_AT of nothing", atPath(t, FS_STAT_AT, 0, "none"), FS_E_NOT_FOUND);
expect("STAT_AT through .. to nothing", atPath(t, FS_STAT_AT, FS_STAT_AT_FOLLOW, "sub/../none"), FS_E_NOT_FOUND);
ok("READLINK_AT of the link", atPath(t, FS_READLINK_AT, -1, "ln"));
check("its contents", msgWord(0) == FS_KIND_SYMLINK && msgWord(1) == 4 && msgWord(2) == 0x656c6966);
ok("READLINK_AT of a file", atPath(t, FS_READLINK_AT, -1, "file"));
check("its kind alone", msgWord(0) == FS_KIND_FILE && msgWordCount() == 1);
const fileHandle = ok("open the file", fs.open(t, "file", FS_RIGHT_READ));
expect("STAT_AT on a file's handle", atPath(fileHandle, FS_STAT_AT, 0, "x"), FS_E_NOT_DIR);
fs.close(fileHandle);
const itself = ok("open the link itself", fs.open(t, "ln", FS_RIGHT_READ | FS_OPEN_NOFOLLOW));
expect("its kind", <i32>fs.kind, <i32>FS_KIND_SYMLINK);
ok("stat the link", fs.stat(itself));
expect("its size is its target's length", <i32>fs.size, 4);
expect("a link's handle has no WRITE to write with", writeText(itself, "x"), E_MISSING_RIGHT);
fs.close(itself);
const writable = ok("open a link with WRITE, not following", fs.open(t, "ln", FS_RIGHT_WRITE | FS_OPEN_NOFOLLOW));
expect("it is the link", <i32>fs.kind, <i32>FS_KIND_SYMLINK);
expect("a link cannot be written", writeText(writable, "x"), FS_E_LOOP);
expect("nor truncated", fs.truncate(writable, 0), FS_E_LOOP);
ok("its times can be set", fs.setTimes(writable, FS_TIMES_MODIFY, 0, 5_000_000_000));
ok("stat", fs.stat(writable));
check("the link's own modify time", fs.modified == 5_000_000_000);
check("not its target's", fs.stat(ok("the target", fs.open(t, "ln", FS_RIGHT_READ))) == 0 && fs.modified != 5_000_000_000);
fs.close(writable);
expect("open a link with TRUNCATE, not following", fs.open(t, "ln", FS_RIGHT_WRITE | FS_OPEN_TRUNCATE | FS_OPEN_NOFOLLOW), FS_E_LOOP);
expect("a link where one exists", fs.symlink(t, "x", "ln"), FS_E_EXISTS);
expect("an empty target", fs.symlink(t, "", "empty"), FS_E_NOT_FOUND);
expect("a target past 4095 bytes", fs.symlink(t, "x".repeat(<i32>FS_SYMLINK_MAX + 1), "long"), FS_E_NAME);
ok("a target of 4095 bytes", fs.symlink(t, "y".repeat(<i32>FS_SYMLINK_MAX), "long"));
check("read back whole", readlink(t, "long").length == <i32>FS_SYMLINK_MAX);
passed("a link leads to its target, reads as its target's text, and is not written");

ok("dangling", fs.symlink(t, "nowhere", "dangling"));
expect("open a dangling link", fs.open(t, "dangling", FS_RIGHT_READ), FS_E_NOT_FOUND);
const made = ok("create through a dangling link", fs.open(t, "dangling", FS_RIGHTS_ALL | FS_OPEN_CREATE));
fs.close(made);
check("it made the target", readText(t, "nowhere") == "");
expect("exclusive create on a link, even a dangling one", fs.open(t, "ln", FS_RIGHTS_ALL | FS_OPEN_CREATE | FS_OPEN_EXCLUSIVE), FS_E_EXISTS);
ok("remove the link", fs.unlink(t, "dangling"));
check("the target stays", readText(t, "nowhere") == "");
passed("dangling links: not found, made by a create through them, removed alone");

ok("loop a", fs.symlink(t, "loop-b", "loop-a"));
ok("loop b", fs.symlink(t, "loop-a", "loop-b"));
expect("a loop", fs.open(t, "loop-a", FS_RIGHT_READ), FS_E_LOOP);
expect("a loop in the middle", fs.open(t, "loop-a/x", FS_RIGHT_READ), FS_E_LOOP);
ok("self", fs.symlink(t, "self", "self"));
expect("a link to itself", fs.open(t, "self", FS_RIGHT_READ), FS_E_LOOP);
ok("a chain of 40", fs.symlink(t, "c1", "c0"));
for (let i = 1; i < 40; i++) ok("chain", fs.symlink(t, "c" + (i + 1).toString(), "c" + i.toString()));
ok("its end", fs.symlink(t, "file", "c40"));
expect("41 links", fs.open(t, "c0", FS_RIGHT_READ), FS_E_LOOP);
check("40 links", readText(t, "c1") == "the file");
passed("loops and chains longer than 40 links: FS_E_LOOP");

// Escapes from a capability: t/sub's handle reaches nothing above t/sub.
ok("up", fs.symlink(sub, "../file", "up"));
expect("a link out through ..", fs.open(sub, "up", FS_RIGHT_READ), FS_E_ESCAPE);
check("the same link from t's handle", readText(t, "sub/up") == "the file");
ok("abs", fs.symlink(sub, "/t/file", "abs"));
expect("an absolute target from a directory capability", fs.open(sub, "abs", FS_RIGHT_READ), FS_E_ESCAPE);
check("the same absolute link from the root", readText(root, "t/sub/abs") == "the file");
ok("sub/a", fs.mkdir(sub, "a"));
ok("deep", fs.symlink(sub, "a/../../..", "deep"));
expect("a link that climbs after going down", fs.open(sub, "deep/x", FS_RIGHT_READ), FS_E_ESCAPE);
ok("dirlink", fs.symlink(t, "sub", "dirlink"));
check("through a link to a directory", readText(t, "dirlink/../file") == "the file"); // .. from where the link led
make(sub, "inner", "inner");
check("a path through it", readText(t, "dirlink/inner") == "inner");
passed("no way out of a capability through a link: .. above it, an absolute target (the root's own works)");

// Trailing slashes.
check("a link to a directory with a slash", fs.open(t, "dirlink/", FS_RIGHT_READ | FS_OPEN_NOFOLLOW) > 0);
expect("a file with a slash", fs.open(t, "file/", FS_RIGHT_READ), FS_E_NOT_DIR);
expect("create a file named with a slash", fs.open(t, "new/", FS_RIGHTS_ALL | FS_OPEN_CREATE), FS_E_IS_DIR);
ok("mkdir with a slash", fs.mkdir(t, "made/"));
expect("unlink a file with a slash", fs.unlink(t, "file/"), FS_E_NOT_DIR);
expect("remove a link to a directory with a slash", fs.unlink(t, "dirlink/"), FS_E_NOT_DIR);
ok("remove a directory with a slash", fs.remove(t, "made/", FS_REMOVE_DIR));
expect("rename a file with a slash", fs.rename(t, "file", "other/"), FS_E_NOT_DIR);
passed("trailing slashes: a directory or a link to one, never a file");

// ---- Removing by kind ----------------------------------------------------------------------------
ok("mkdir rd", fs.mkdir(t, "rd"));
expect("remove a directory as a file", fs.remove(t, "rd", FS_REMOVE_FILE), FS_E_IS_DIR);
expect("remove a file as a directory", fs.remove(t, "nowhere", FS_REMOVE_DIR), FS_E_NOT_DIR);
expect("remove a link as a directory", fs.remove(t, "dirlink", FS_REMOVE_DIR), FS_E_NOT_DIR);
ok("remove the directory", fs.remove(t, "rd", FS_REMOVE_DIR));
ok("remove the file", fs.remove(t, "nowhere", FS_REMOVE_FILE));
passed("REMOVE with a kind: directories only, or never directories");

// ---- Hard links ----------------------------------------------------------------------------------
expect("one name", <i32>links(t, "file"), 1);
ok("link", fs.link(t, "file", t, "hard"));
expect("two names", <i32>links(t, "file"), 2);
check("the same file", readText(t, "hard") == "the file");
ok("link across directories", fs.link(t, "file", sub, "hard2"));
expect("three names", <i32>links(t, "hard"), 3);
expect("a link onto a name", fs.link(t, "file", t, "hard"), FS_E_EXISTS);
expect("a link to a directory", fs.link(t, "sub", t, "dirhard"), FS_E_IS_DIR);
ok("a link to a link (not followed)", fs.link(t, "ln", t, "ln2"));
check("it is a link", readlink(t, "ln2") == "file");
ok("a link to what a link leads to (followed)", fs.link(t, "ln", t, "hard3", true));
expect("four names", <i32>links(t, "file"), 4);
ok("unlink one", fs.unlink(t, "file"));
expect("three left", <i32>links(t, "hard"), 3);
check("the file lives on", readText(sub, "hard2") == "the file");
passed("hard links: link counts, across directories, never a directory, of a link or what it leads to");

// An unlinked file lives while a handle holds it.
make(t, "open", "kept while open");
const held = ok("open it", fs.open(t, "open", FS_RIGHTS_ALL));
const service = ok("the service capability", registryLookup(FS_SERVICE));
ok("info", fs.info(service));
const freeBefore = msgWord(4);
ok("unlink it", fs.unlink(t, "open"));
expect("its name is gone", fs.open(t, "open", FS_RIGHT_READ), FS_E_NOT_FOUND);
expect("read it", fs.readInline(held, 0, scratch, 100), 15);
check("its bytes", String.UTF8.decodeUnsafe(scratch, 15) == "kept while open");
ok("write it", writeText(held, "still writable!"));
ok("stat it", fs.stat(held));
expect("no names", <i32>fs.links, 0);
ok("info", fs.info(service));
expect("its inode is still in use", <i32>msgWord(4), <i32>freeBefore);
ok("close it", fs.close(held));
ok("info", fs.info(service));
expect("its inode is free after the close", <i32>msgWord(4), <i32>freeBefore + 1);
passed("an unlinked file keeps its data while open, and goes at the last close");

// ---- Renames -------------------------------------------------------------------------------------
make(t, "r1", "one");
make(t, "r2", "two");
ok("rename over a file", fs.rename(t, "r1", "r2"));
check("replaced", readText(t, "r2") == "one");
expect("the old name", fs.open(t, "r1", FS_RIGHT_READ), FS_E_NOT_FOUND);
ok("link r2 as r3", fs.link(t, "r2", t, "r3"));
ok("rename onto another name of the same file", fs.rename(t, "r2", "r3"));
check("both names stay (POSIX)", readText(t, "r2") == "one" && readText(t, "r3") == "one");
ok("rename across directories", fs.renameTo(t, "r2", sub, "moved"));
check("moved", readText(sub, "moved") == "one");
expect("gone from t", fs.open(t, "r2", FS_RIGHT_READ), FS_E_NOT_FOUND);
ok("mkdir d1 and d2", fs.mkdir(t, "d1"));
ok("mkdir d2", fs.mkdir(t, "d2"));
make(t, "d2/x", "x");
expect("a directory over a full one", fs.rename(t, "d1", "d2"), FS_E_NOT_EMPTY);
ok("empty d2", fs.unlink(t, "d2/x"));
ok("a directory over an empty one", fs.rename(t, "d1", "d2"));
expect("a file over a directory", fs.rename(t, "r3", "d2"), FS_E_IS_DIR);
expect("a directory over a file", fs.rename(t, "d2", "r3"), FS_E_NOT_DIR);
expect("a directory into itself", fs.renameTo(t, "d2", t, "d2/in"), E_INVALID_ARGUMENT);
ok("a directory into another", fs.renameTo(t, "d2", sub, "d2"));
ok("stat sub", fs.stat(sub));
const subInode = fs.inode;
ok("d2/.. from the root", fs.open(root, "t/sub/d2/..", FS_RIGHT_READ | FS_OPEN_DIRECTORY));
check("d2/.. is sub", fs.inode == subInode);
ok("a link renamed is the link", fs.rename(t, "ln2", "ln3"));
check("still a link", readlink(t, "ln3") == "file");
passed("renames: replacing a file or an empty directory, across directories, a link as itself");

// Tokens: the destination of a rename or link through another handle.
const readOnly = ok("a read-only handle on sub", fs.open(t, "sub", FS_RIGHT_READ | FS_OPEN_DIRECTORY));
expect("rename into a read-only directory", fs.renameTo(t, "r3", readOnly, "nope"), E_MISSING_RIGHT);
// A read-only directory gives none of its files a name where one may write (then opened with
// WRITE, it would write a file only readable before: redteam10).
expect("link out of a read-only directory into a writable one", fs.link(readOnly, "hard2", t, "stolen"), E_MISSING_RIGHT);
expect("so no name to open with WRITE", fs.open(t, "stolen", FS_RIGHT_READ | FS_RIGHT_WRITE), FS_E_NOT_FOUND);
const closed = ok("another handle on sub", fs.open(t, "sub", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY));
const token = ok("its token", fs.token(closed));
ok("close it", fs.close(closed));
// A stale token: its handle is closed (renameTo would ask the closed handle itself for a token).
expect("a token of a closed handle", renameWithToken(t, "r3", token, "nope"), FS_E_STALE);
// A send capability of another Receiver is no token.
const own = ok("a receiver", new Memory(MEMORY).createReceiver(4));
const stranger = ok("a send capability to it", new Receiver(own).mint(7, RIGHT_RECEIVER_SEND));
expect("a stranger as a token: not one of the server's", renameWithToken(t, "r3", stranger, "nope"), E_INVALID_CAP);
const call = ok("a copy of t's handle", capCopy(t));
expect("a call capability as a token: never invoked", renameWithToken(t, "r3", call, "nope"), E_WRONG_TYPE);
check("nothing moved", readText(t, "r3") == "one");
passed("tokens: a read-only destination or source, a closed handle's token, a capability that is no token");

// ---- Times ---------------------------------------------------------------------------------------
make(t, "times", "t");
const timed = ok("open times", fs.open(t, "times", FS_RIGHTS_ALL));
ok("set both", fs.setTimes(timed, FS_TIMES_ACCESS | FS_TIMES_MODIFY, 1_000_000_000, 2_000_000_000));
ok("stat", fs.stat(timed));
check("access time", fs.accessed == 1_000_000_000);
check("modify time", fs.modified == 2_000_000_000);
check("change time is now", fs.changed > 2_000_000_000);
expect("a time and now at once", fs.setTimes(timed, FS_TIMES_MODIFY | FS_TIMES_MODIFY_NOW, 0, 0), E_INVALID_ARGUMENT);
ok("modify now", fs.setTimes(timed, FS_TIMES_MODIFY_NOW, 0, 0));
ok("stat", fs.stat(timed));
check("modify is now, access kept", fs.modified > 2_000_000_000 && fs.accessed == 1_000_000_000);
ok("read it", fs.readInline(timed, 0, scratch, 1));
ok("stat", fs.stat(timed));
check("a read brings an old access time up to date", fs.accessed > 1_000_000_000);
const readOnlyFile = ok("read-only", fs.open(t, "times", FS_RIGHT_READ));
expect("set times with READ only", fs.setTimes(readOnlyFile, FS_TIMES_ACCESS_NOW, 0, 0), E_MISSING_RIGHT);
const timesOnly = ok("read and times", fs.open(t, "times", FS_RIGHT_READ | FS_RIGHT_TIMES));
ok("set times with TIMES", fs.setTimes(timesOnly, FS_TIMES_ACCESS_NOW, 0, 0));
expect("but not write", writeText(timesOnly, "y"), E_MISSING_RIGHT);
passed("times: set, now, kept, a read updates an old access time; TIMES (or WRITE) needed");

// ---- "." and ".." --------------------------------------------------------------------------------
ok("stat t", fs.stat(t));
const tInode = fs.inode;
const n = ok("readdir sub with dots", fs.readdir(sub, 0, FS_READDIR_DOTS));
check("two or more", n >= 2);
let at = fs.address;
ok("stat sub", fs.stat(sub));
check(". first", direntNameLength(at) == 1 && load<u8>(direntName(at)) == 0x2e && direntInode(at) == fs.inode && direntKind(at) == FS_KIND_DIR);
at = direntNext(at);
check(".. next, the parent", direntNameLength(at) == 2 && direntInode(at) == tInode);
const plain = ok("readdir without", fs.readdir(sub, 0));
check("no dots without the flag", plain == n - 2);
passed("READDIR with FS_READDIR_DOTS: . and .. first");

ok("sync", fs.sync(root));
print("fs-links-check: all passed");
exit(0);
