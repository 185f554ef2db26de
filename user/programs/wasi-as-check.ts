// An AssemblyScript program that speaks WASI preview1 itself (no libdogma): what AssemblyScript's
// WASI libraries do, checked. Like them it opens everything from fd 3, the preopen they take as the
// working directory (docs/ABI.md "WASI preview1"). One line per check, as the C conformance
// programs print them (user/wasi/conformance/check.h): "ok NAME", "FAIL NAME<tab>errno N", then
// "wasi-as: N checks, F failed, 0 skipped"; the exit code is the number of failures. It needs a
// scratch directory as fd 3 (test/personality/conformance.test.ts).

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, count: u32, written: usize): u16;
@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, count: u32, read: usize): u16;
@external("wasi_snapshot_preview1", "fd_seek")
declare function fd_seek(fd: u32, offset: i64, whence: u8, at: usize): u16;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function fd_prestat_get(fd: u32, out: usize): u16;
@external("wasi_snapshot_preview1", "fd_filestat_get")
declare function fd_filestat_get(fd: u32, out: usize): u16;
@external("wasi_snapshot_preview1", "fd_readdir")
declare function fd_readdir(fd: u32, buf: usize, length: u32, cookie: u64, used: usize): u16;
@external("wasi_snapshot_preview1", "path_open")
declare function path_open(fd: u32, dirflags: u32, path: usize, length: u32, oflags: u16, base: u64, inheriting: u64, fdflags: u16, out: usize): u16;
@external("wasi_snapshot_preview1", "path_unlink_file")
declare function path_unlink_file(fd: u32, path: usize, length: u32): u16;
@external("wasi_snapshot_preview1", "path_create_directory")
declare function path_create_directory(fd: u32, path: usize, length: u32): u16;
@external("wasi_snapshot_preview1", "path_remove_directory")
declare function path_remove_directory(fd: u32, path: usize, length: u32): u16;
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

const DIR: u32 = 3;
const CREAT: u16 = 1;
const TRUNC: u16 = 8;
const RIGHTS: u64 = (1 << 1) | (1 << 2) | (1 << 5) | (1 << 6) | (1 << 21); // read, seek, tell, write, filestat_get
const scratch = memory.data(4096);
const iov = memory.data(16);
const word = memory.data(8);
/** say's own count word: printing must not clobber what a check reads from `word`. */
const said = memory.data(8);

let checks = 0;
let failures = 0;

const sayIov = memory.data(16);

function say(text: string): void {
  const bytes = String.UTF8.encode(text);
  store<u32>(sayIov, changetype<usize>(bytes));
  store<u32>(sayIov, <u32>bytes.byteLength, 4);
  fd_write(1, sayIov, 1, said);
}

function expect(name: string, got: u16, want: u16): void {
  checks++;
  if (got == want) say("ok " + name + "\n");
  else {
    failures++;
    say("FAIL " + name + "\terrno " + got.toString() + ", want " + want.toString() + "\n");
  }
}

function truth(name: string, ok: bool): void {
  expect(name, ok ? 0 : 1, 0);
}

/** `text` as UTF-8 at `scratch` + `at`: its length. */
function put(text: string, at: usize = 0): u32 {
  const bytes = String.UTF8.encode(text);
  memory.copy(scratch + at, changetype<usize>(bytes), bytes.byteLength);
  return <u32>bytes.byteLength;
}

expect("fd_prestat_get of fd 3", fd_prestat_get(DIR, scratch), 0);
let n = put("as-file");
expect("path_open creates a file under fd 3", path_open(DIR, 0, scratch, n, CREAT | TRUNC, RIGHTS, 0, 0, word), 0);
const fd = load<u32>(word);
n = put("written by AssemblyScript\n", 256);
store<u32>(iov, scratch + 256);
store<u32>(iov, n, 4);
expect("fd_write", fd_write(fd, iov, 1, word), 0);
truth("all of it", load<u32>(word) == n);
expect("fd_seek back", fd_seek(fd, 0, 0, word), 0);
store<u32>(iov, scratch + 1024);
store<u32>(iov, 100, 4);
expect("fd_read", fd_read(fd, iov, 1, word), 0);
truth("reads what was written", load<u32>(word) == n && memory.compare(scratch + 1024, scratch + 256, n) == 0);
expect("fd_filestat_get", fd_filestat_get(fd, scratch + 2048), 0);
truth("its size", load<u64>(scratch + 2048, 32) == <u64>n);
expect("fd_close", fd_close(fd), 0);
expect("fd_readdir of fd 3", fd_readdir(DIR, scratch + 2048, 2048, 0, word), 0);
let seen = false;
const used = load<u32>(word);
for (let at: u32 = 0; at + 24 <= used; ) {
  const nameLength = load<u32>(scratch + 2048 + at, 16);
  if (nameLength == 7 && String.UTF8.decodeUnsafe(scratch + 2048 + at + 24, 7) == "as-file") seen = true;
  at += 24 + nameLength;
}
truth("the listing has the file", seen);
n = put("as-dir");
expect("path_create_directory", path_create_directory(DIR, scratch, n), 0);
expect("path_unlink_file of a directory", path_unlink_file(DIR, scratch, n), 31); // EISDIR
expect("path_remove_directory", path_remove_directory(DIR, scratch, n), 0);
n = put("as-file");
expect("path_unlink_file", path_unlink_file(DIR, scratch, n), 0);
n = put("/as-file");
expect("path_open of an absolute path", path_open(DIR, 0, scratch, n, 0, RIGHTS, 0, 0, word), 76); // ENOTCAPABLE
n = put("../as-file");
expect("path_open out of fd 3", path_open(DIR, 0, scratch, n, 0, RIGHTS, 0, 0, word), 76);
say("wasi-as: " + checks.toString() + " checks, " + failures.toString() + " failed, 0 skipped\n");
proc_exit(failures);
