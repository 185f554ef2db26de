// A file server that spies on what its clients lend it, and a client of it and of the real file
// system, for test/fs/lent-buffers.test.ts (redteam11): one FsClient must never show one server
// what passes to or from another (`cat /secret /host/x` showed the host share's server the end
// of /secret).
//   -- server: publishes a root. It keeps a copy of every view a request lends it (a WRITE's, a
//      long path's) and the filler an ATTACH lends, and at every request looks for SECRET_MARK
//      in what the request brings (a READ's or READDIR's Region, moved here for the call) and in
//      all it kept: "fs-spy: saw the secret ..." when it finds it. It answers SYNC with its verdict.
//   -- client: talks to the spy first (a write, an attach, a long path), then writes the secret
//      to /secret on the file system and reads it back in every size class, then talks to the spy
//      again (reads of every size class, a READDIR, a long path, a write), and asks its verdict.
// Config: service spy fs-spy publish=spy memory=256 -- server
//         service spyc fs-spy memory=512 use=fs use=spy -- client
import {
  exit, print, arg, msgBegin, msgAddWord, msgAddCap, msgCap, msgCapCount, msgInvoke, msgWord, capDrop, serve, Memory, Region, Receiver,
  Cappage, Process, CAP_MOVE, RIGHT_RECEIVER_CALL, OP_REGION_INFO, OP_CAP_COPY,
} from "../lib";
import {
  FsClient, fsRoot, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_OPEN, FS_ATTACH, FS_READ, FS_WRITE,
  FS_READDIR, FS_SYNC, FS_KIND_FILE, FS_KIND_DIR, FS_E_NOT_FOUND,
} from "../lib/fs-client";
import { checkName, ok as check } from "../lib/check-steps";

const SPY_ROOTS: i32 = 3;
/** The client's Memory and Cappages: memory, use=fs, use=spy (docs/BOOT.md: grants in that order). */
const MEMORY: i32 = arg(1) == "server" ? 4 : 3;
const FS_ROOTS: i32 = 4;
const SPIED_ROOTS: i32 = 5;
/** What the client writes to /secret, again and again. */
const SECRET_MARK = "SECRET-4f2a";
/** The client's buffer, in pages: its transfers go through a 1-page, a 16-page and a buffer-sized Region. */
const PAGES: u32 = 32;

checkName("fs-spy");

// ---- The spy ---------------------------------------------------------------------------------

let receiver = 0;
const kept = new Array<i32>();
let seen = 0;

// Whether `cap` (a Region capability that maps its range here) holds the mark: its address from REGION_INFO.
function holdsMark(cap: i32): bool {
  msgBegin(OP_REGION_INFO);
  if (msgInvoke(cap) < 0) return false;
  const address = <usize>msgWord(0);
  const bytes = <usize>msgWord(1) << 12;
  const mark = String.UTF8.encode(SECRET_MARK);
  const first = load<u8>(changetype<usize>(mark));
  const length = <usize>mark.byteLength;
  for (let i: usize = 0; i + length <= bytes; i++) {
    if (load<u8>(address + i) != first) continue;
    if (memory.compare(address + i, changetype<usize>(mark), length) == 0) return true;
  }
  return false;
}

function look(label: u32, brought: i32): void {
  if (brought != 0 && holdsMark(brought)) {
    seen++;
    print("fs-spy: saw the secret in the Region request " + label.toString() + " brought");
  }
  for (let i = 0; i < kept.length; i++) {
    if (!holdsMark(kept[i])) continue;
    seen++;
    print("fs-spy: saw the secret through a Region kept from before (request " + label.toString() + ")");
  }
}

function handle(label: u32): u32 {
  // Every kernel call overwrites the message buffer: the request's capability is read first.
  const brought = msgCapCount() > 0 ? msgCap(0) : 0;
  look(label, brought);
  if (label == FS_OPEN || label == FS_ATTACH) {
    // A view (a long path) is kept, as a copy; an attach's filler is kept itself.
    if (brought != 0 && label == FS_OPEN) keep(brought);
    if (brought != 0 && label == FS_ATTACH) kept.push(brought);
    const handle = check("mint", new Receiver(receiver).mint(1, RIGHT_RECEIVER_CALL));
    let readBuffer = 0;
    if (label == FS_ATTACH) readBuffer = check("a view", new Region(check("a page", new Memory(MEMORY).createRegion(1, 0))).view());
    msgBegin(0);
    if (label == FS_OPEN) {
      msgAddWord(FS_KIND_FILE);
      msgAddWord(0);
      msgAddWord(0);
      msgAddWord(7);
      if (brought != 0) msgAddCap(<u32>brought | CAP_MOVE);
      msgAddCap(<u32>handle | CAP_MOVE);
    } else {
      msgAddWord(4096);
      msgAddCap(<u32>handle | CAP_MOVE);
      msgAddCap(<u32>readBuffer | CAP_MOVE);
    }
    return 0;
  }
  if (label == FS_WRITE && brought != 0) keep(brought);
  if (label == FS_SYNC) {
    print(seen == 0 ? "fs-spy: verdict: saw nothing of the secret" : "fs-spy: verdict: saw the secret " + seen.toString() + " times");
  }
  msgBegin(0);
  if (label == FS_READ) msgAddWord(0);
  else if (label == FS_READDIR) {
    msgAddWord(0);
    msgAddWord(0);
    msgAddWord(0);
  }
  else if (label == FS_WRITE) msgAddWord(16);
  else msgAddWord(FS_KIND_DIR);
  if (brought != 0) msgAddCap(<u32>brought | CAP_MOVE);
  return 0;
}

function keep(view: i32): void {
  msgBegin(OP_CAP_COPY);
  msgAddWord(0xffff_ffff);
  if (msgInvoke(view) >= 0 && msgCapCount() > 0) kept.push(msgCap(0));
}

function runServer(): void {
  receiver = check("a Receiver", new Memory(MEMORY).createReceiver());
  const root = check("the root", new Receiver(receiver).mint(0, RIGHT_RECEIVER_CALL));
  check("publish the root", new Cappage(SPY_ROOTS).put(0, root));
  serve(receiver, handle);
}

// ---- The client ------------------------------------------------------------------------------

const LONG_PATH = "d/".repeat(200) + "f";

function fillWithMark(fs: FsClient, bytes: u32): void {
  const mark = String.UTF8.encode(SECRET_MARK);
  for (let at: u32 = 0; at + <u32>mark.byteLength <= bytes; at += <u32>mark.byteLength) memory.copy(fs.address + at, changetype<usize>(mark), mark.byteLength);
}

function runClient(): void {
  const fs = new FsClient(MEMORY, PAGES);
  const spyRoot = check("the spy's root", fsRoot(SPIED_ROOTS, 0));
  const diskRoot = check("the file system's root", fsRoot(FS_ROOTS, 0));
  const bytes = fs.bufferBytes;
  check("the buffer", fs.prepare());

  // The spy first: a write (a view of the small Region), an attach (a filler), a long path (the path page's view).
  const spied = check("open x on the spy", fs.open(spyRoot, "x", FS_RIGHT_READ | FS_RIGHT_WRITE));
  memory.fill(fs.address, 0x2e, 64);
  check("write to the spy", fs.write(spied, 0, 64));
  check("write 64 KiB to the spy", fs.write(spied, 0, 65536));
  check("attach on the spy", fs.attach(spied));
  check("a long path on the spy", fs.open(spyRoot, LONG_PATH, FS_RIGHT_READ));

  // The secret, through every size class, to the file system and back.
  const secret = check("create /secret", fs.open(diskRoot, "secret", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  fs.autoMapAfter = 0;
  const sizes: u32[] = [100, 4096, 40000, bytes];
  for (let i = 0; i < sizes.length; i++) {
    fillWithMark(fs, sizes[i]);
    if (check("write the secret", fs.write(secret, 0, sizes[i])) != <i32>sizes[i]) check("a whole write", -11);
    memory.fill(fs.address, 0, bytes);
    if (check("read the secret", fs.read(secret, 0, sizes[i])) != <i32>sizes[i]) check("a whole read", -11);
    const mark = String.UTF8.encode(SECRET_MARK);
    if (memory.compare(fs.address, changetype<usize>(mark), mark.byteLength) != 0) check("the secret read back", -11);
  }
  const attachedSecret = check("attach /secret", fs.attach(secret));
  if (check("read the secret attached", fs.read(attachedSecret, 0, bytes)) != <i32>bytes) check("a whole attached read", -11);
  const attachedBack = String.UTF8.encode(SECRET_MARK);
  if (memory.compare(fs.address, changetype<usize>(attachedBack), attachedBack.byteLength) != 0) check("the secret read back attached", -11);
  check("a long path on the file system", fs.open(diskRoot, SECRET_MARK + "/" + LONG_PATH, FS_RIGHT_READ) == FS_E_NOT_FOUND ? 0 : -11);

  // The spy again: reads of every size class, a listing, a long path, a write of what the buffer holds now.
  for (let i = 0; i < sizes.length; i++) check("read from the spy", fs.read(spied, 0, sizes[i]));
  check("readdir on the spy", fs.readdir(spyRoot, 0));
  check("a long path on the spy again", fs.open(spyRoot, LONG_PATH, FS_RIGHT_READ));
  memory.fill(fs.address, 0x2e, bytes);
  check("write to the spy again", fs.write(spied, 0, 100));
  print("fs-spy: client: the secret went to the file system and back whole");
  check("the spy's verdict", fs.sync(spied));
  print("fs-spy: client: done");
}

check("listen", Process.self().listen(true)); // both sides are given Regions
if (arg(1) == "server") runServer();
else runClient();
exit(0);
