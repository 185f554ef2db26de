/* Conformance of the fd_* functions on a regular file, a directory and the standard streams,
 * in the scratch directory (fd 3). Run with the scratch directory as the only preopen. */
#include "check.h"

static int32_t write_text(int32_t fd, const char *text, int32_t *n) {
  __wasi_ciovec_t iov = {(const uint8_t *)text, strlen(text)};
  return raw_fd_write(fd, P(&iov), 1, P(n));
}

static uint64_t tell(int32_t fd) {
  uint64_t at = 0;
  raw_fd_tell(fd, P(&at));
  return at;
}

static uint64_t size_of(int32_t fd) {
  __wasi_filestat_t st;
  memset(&st, 0, sizeof st);
  raw_fd_filestat_get(fd, P(&st));
  return st.size;
}

static void file_io(void) {
  int32_t fd, n;
  char buf[64];
  clean("fd-file");
  expect("path_open creates a file", open_at(DIR_FD, "fd-file", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, ALL_FILE_RIGHTS, 0, 0, &fd), 0);
  expect("fd_write", write_text(fd, "hello world", &n), 0);
  truth_u64("fd_write's count", n, 11);
  truth_u64("fd_tell after a write", tell(fd), 11);
  uint64_t at = 99;
  expect("fd_seek SET", raw_fd_seek(fd, 0, __WASI_WHENCE_SET, P(&at)), 0);
  truth_u64("fd_seek SET's offset", at, 0);
  expect("fd_seek CUR", raw_fd_seek(fd, 6, __WASI_WHENCE_CUR, P(&at)), 0);
  truth_u64("fd_seek CUR's offset", at, 6);
  expect("fd_seek END", raw_fd_seek(fd, -5, __WASI_WHENCE_END, P(&at)), 0);
  truth_u64("fd_seek END's offset", at, 6);
  expect("fd_seek before the start", raw_fd_seek(fd, -100, __WASI_WHENCE_CUR, P(&at)), __WASI_ERRNO_INVAL);
  expect("fd_seek with a bad whence", raw_fd_seek(fd, 0, 7, P(&at)), __WASI_ERRNO_INVAL);
  __wasi_iovec_t iov = {(uint8_t *)buf, 5};
  memset(buf, 0, sizeof buf);
  expect("fd_read", raw_fd_read(fd, P(&iov), 1, P(&n)), 0);
  truth("fd_read's bytes", n == 5 && memcmp(buf, "world", 5) == 0);
  expect("fd_read at the end", raw_fd_read(fd, P(&iov), 1, P(&n)), 0);
  truth_u64("fd_read at the end reads 0", n, 0);
  memset(buf, 0, sizeof buf);
  expect("fd_pread", raw_fd_pread(fd, P(&iov), 1, 0, P(&n)), 0);
  truth("fd_pread's bytes", n == 5 && memcmp(buf, "hello", 5) == 0);
  truth_u64("fd_pread leaves the offset", tell(fd), 11);
  __wasi_ciovec_t out = {(const uint8_t *)"HELLO", 5};
  expect("fd_pwrite", raw_fd_pwrite(fd, P(&out), 1, 0, P(&n)), 0);
  truth_u64("fd_pwrite leaves the offset", tell(fd), 11);
  __wasi_ciovec_t bang = {(const uint8_t *)"!", 1};
  expect("fd_pwrite past the end", raw_fd_pwrite(fd, P(&bang), 1, 20, P(&n)), 0);
  truth_u64("a write past the end makes the size", size_of(fd), 21);
  iov.buf_len = 21;
  memset(buf, 'x', sizeof buf);
  raw_fd_pread(fd, P(&iov), 1, 0, P(&n));
  truth("the hole reads as zeros", n == 21 && memcmp(buf, "HELLO world\0\0\0\0\0\0\0\0\0!", 21) == 0);

  __wasi_filestat_t st;
  expect("fd_filestat_get", raw_fd_filestat_get(fd, P(&st)), 0);
  truth("fd_filestat_get: a regular file", st.filetype == __WASI_FILETYPE_REGULAR_FILE);
  truth("fd_filestat_get: at least one link", st.nlink >= 1);
  expect("fd_filestat_set_size smaller", raw_fd_filestat_set_size(fd, 5), 0);
  truth_u64("fd_filestat_set_size's size", size_of(fd), 5);
  expect("fd_allocate grows", raw_fd_allocate(fd, 0, 100), 0);
  truth_u64("fd_allocate's size", size_of(fd), 100);
  expect("fd_allocate within", raw_fd_allocate(fd, 10, 10), 0);
  truth_u64("fd_allocate within keeps the size", size_of(fd), 100);
  expect("fd_advise", raw_fd_advise(fd, 0, 100, __WASI_ADVICE_SEQUENTIAL), 0);
  expect("fd_advise with bad advice", raw_fd_advise(fd, 0, 100, 9), __WASI_ERRNO_INVAL);
  expect("fd_sync", raw_fd_sync(fd), 0);
  expect("fd_datasync", raw_fd_datasync(fd), 0);

  __wasi_fdstat_t fs;
  expect("fd_fdstat_get", raw_fd_fdstat_get(fd, P(&fs)), 0);
  truth("fd_fdstat_get: a regular file", fs.fs_filetype == __WASI_FILETYPE_REGULAR_FILE);
  truth_u64("fd_fdstat_get: the rights asked", fs.fs_rights_base, ALL_FILE_RIGHTS);
  truth_u64("fd_fdstat_get: no flags", fs.fs_flags, 0);
  expect("fd_fdstat_set_flags APPEND", raw_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), 0);
  raw_fd_fdstat_get(fd, P(&fs));
  truth_u64("fd_fdstat_get reports APPEND", fs.fs_flags, __WASI_FDFLAGS_APPEND);
  raw_fd_seek(fd, 0, __WASI_WHENCE_SET, P(&at));
  write_text(fd, "X", &n);
  truth_u64("an APPEND write goes to the end", size_of(fd), 101);
  truth_u64("and the offset with it", tell(fd), 101);
  expect("fd_fdstat_set_flags with an unknown flag", raw_fd_fdstat_set_flags(fd, 0x100), __WASI_ERRNO_INVAL);
  expect("fd_fdstat_set_flags NONBLOCK", raw_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_NONBLOCK), 0);
  uint64_t narrow = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET;
  expect("fd_fdstat_set_rights narrows", raw_fd_fdstat_set_rights(fd, narrow, 0), 0);
  raw_fd_fdstat_get(fd, P(&fs));
  truth_u64("fd_fdstat_get: the narrowed rights", fs.fs_rights_base, narrow);
  expect("fd_write without the right", write_text(fd, "no", &n), __WASI_ERRNO_NOTCAPABLE);
  expect("fd_fdstat_set_rights cannot widen", raw_fd_fdstat_set_rights(fd, narrow | __WASI_RIGHTS_FD_WRITE, 0), __WASI_ERRNO_NOTCAPABLE);
  expect("fd_close", raw_fd_close(fd), 0);
  expect("fd_close again", raw_fd_close(fd), __WASI_ERRNO_BADF);
  expect("fd_read of a closed fd", raw_fd_read(fd, P(&iov), 1, P(&n)), __WASI_ERRNO_BADF);
}

static void big_io(void) {
  const int size = 1 << 20;
  uint8_t *data = malloc(size), *back = malloc(size);
  for (int i = 0; i < size; i++) data[i] = (uint8_t)(i * 7 + (i >> 12));
  int32_t fd, n;
  clean("fd-big");
  open_at(DIR_FD, "fd-big", __WASI_OFLAGS_CREAT, ALL_FILE_RIGHTS, 0, 0, &fd);
  __wasi_ciovec_t out = {data, size};
  expect("fd_write of 1 MiB", raw_fd_write(fd, P(&out), 1, P(&n)), 0);
  truth_u64("fd_write of 1 MiB: all of it", n, size);
  __wasi_iovec_t in[2] = {{back, 1000}, {back + 1000, size - 1000}};
  expect("fd_pread of 1 MiB into two buffers", raw_fd_pread(fd, P(in), 2, 0, P(&n)), 0);
  truth_u64("fd_pread of 1 MiB: all of it", n, size);
  truth("fd_pread of 1 MiB: the same bytes", memcmp(data, back, size) == 0);
  raw_fd_close(fd);
  unlink_at(DIR_FD, "fd-big");
  free(data);
  free(back);
}

/*
 * Writes of 4 KiB, exactly 64 KiB and 64 KiB + 1 (a system's file server may take writes of up to
 * 64 KiB from a buffer it keeps a view of, and larger ones another way), an overwrite and an
 * append, interleaved on two files; then each read back whole.
 */
static void medium_io(void) {
  const int size = 4096 + 65536 + 65537;
  uint8_t *a = malloc(size), *b = malloc(size), *back = malloc(size + 16);
  for (int i = 0; i < size; i++) {
    a[i] = (uint8_t)(i * 13 + (i >> 9));
    b[i] = (uint8_t)(i * 5 + 1 + (i >> 11));
  }
  int32_t fa, fb, n;
  clean("fd-mid-a");
  clean("fd-mid-b");
  open_at(DIR_FD, "fd-mid-a", __WASI_OFLAGS_CREAT, ALL_FILE_RIGHTS, 0, 0, &fa);
  open_at(DIR_FD, "fd-mid-b", __WASI_OFLAGS_CREAT, ALL_FILE_RIGHTS, 0, 0, &fb);
  const int pieces[3] = {4096, 65536, 65537};
  int at = 0, ok = 1;
  for (int p = 0; p < 3; p++) {
    __wasi_ciovec_t oa = {a + at, pieces[p]}, ob = {b + at, pieces[p]};
    ok &= raw_fd_write(fa, P(&oa), 1, P(&n)) == 0 && n == pieces[p];
    ok &= raw_fd_write(fb, P(&ob), 1, P(&n)) == 0 && n == pieces[p];
    at += pieces[p];
  }
  truth("fd_write of 4 KiB, 64 KiB and 64 KiB + 1 on two files in turn", ok);
  // 300 bytes over the middle of file a, at 5000 (fd_pwrite), and its own bytes again after its end.
  for (int i = 0; i < 300; i++) a[5000 + i] = (uint8_t)(255 - i);
  __wasi_ciovec_t over = {a + 5000, 300};
  expect("fd_pwrite of 300 bytes", raw_fd_pwrite(fa, P(&over), 1, 5000, P(&n)), 0);
  __wasi_iovec_t in = {back, size + 16};
  expect("fd_pread of file a whole", raw_fd_pread(fa, P(&in), 1, 0, P(&n)), 0);
  truth_u64("fd_pread of file a: its size", n, size);
  truth("fd_pread of file a: its bytes, the overwrite in place", memcmp(a, back, size) == 0);
  expect("fd_pread of file b whole", raw_fd_pread(fb, P(&in), 1, 0, P(&n)), 0);
  truth_u64("fd_pread of file b: its size", n, size);
  truth("fd_pread of file b: its bytes, none of file a's", memcmp(b, back, size) == 0);
  // 64 KiB at 1000 into three buffers (one call of a system's attached handle, spread over them).
  memset(back, 0, size);
  __wasi_iovec_t parts[3] = {{back, 3000}, {back + 3000, 1}, {back + 3001, 65536 - 3001}};
  expect("fd_pread of 64 KiB into three buffers", raw_fd_pread(fb, P(parts), 3, 1000, P(&n)), 0);
  truth_u64("fd_pread of 64 KiB into three buffers: all of it", n, 65536);
  truth("fd_pread of 64 KiB into three buffers: the bytes in order", memcmp(b + 1000, back, 65536) == 0);
  raw_fd_close(fa);
  raw_fd_close(fb);
  unlink_at(DIR_FD, "fd-mid-a");
  unlink_at(DIR_FD, "fd-mid-b");
  free(a);
  free(b);
  free(back);
}

static void renumber(void) {
  int32_t a, b;
  __wasi_filestat_t sa, sb;
  make_file("fd-ren-a", "a");
  make_file("fd-ren-b", "bb");
  open_at(DIR_FD, "fd-ren-a", 0, ALL_FILE_RIGHTS, 0, 0, &a);
  open_at(DIR_FD, "fd-ren-b", 0, ALL_FILE_RIGHTS, 0, 0, &b);
  raw_fd_filestat_get(a, P(&sa));
  expect("fd_renumber", raw_fd_renumber(a, b), 0);
  expect("fd_renumber closes the source", raw_fd_close(a), __WASI_ERRNO_BADF);
  raw_fd_filestat_get(b, P(&sb));
  truth("fd_renumber: the target is the source's file", sa.ino == sb.ino && sb.size == 1);
  expect("fd_renumber onto a closed fd", raw_fd_renumber(b, 900), __WASI_ERRNO_BADF);
  expect("fd_renumber from a closed fd", raw_fd_renumber(900, b), __WASI_ERRNO_BADF);
  raw_fd_close(b);
  unlink_at(DIR_FD, "fd-ren-a");
  unlink_at(DIR_FD, "fd-ren-b");
}

static void rights(void) {
  int32_t fd, n;
  make_file("fd-rights", "data");
  expect("path_open read-only", open_at(DIR_FD, "fd-rights", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd), 0);
  __wasi_fdstat_t fs;
  raw_fd_fdstat_get(fd, P(&fs));
  truth_u64("a read-only open has only fd_read", fs.fs_rights_base, __WASI_RIGHTS_FD_READ);
  expect2("fd_write on a read-only fd", write_text(fd, "x", &n), __WASI_ERRNO_NOTCAPABLE, __WASI_ERRNO_BADF);
  uint64_t at;
  expect("fd_seek without fd_seek", raw_fd_seek(fd, 0, __WASI_WHENCE_END, P(&at)), __WASI_ERRNO_NOTCAPABLE);
  raw_fd_close(fd);
  expect("path_open asking a right the directory does not hand down",
         open_at(DIR_FD, "fd-rights", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_SOCK_ACCEPT, 0, 0, &fd), __WASI_ERRNO_NOTCAPABLE);
  unlink_at(DIR_FD, "fd-rights");
}

static void directory(void) {
  int32_t dir, fd, n;
  char buf[64];
  clean("fd-dir/f1");
  clean("fd-dir/f2");
  clean("fd-dir");
  mkdir_at(DIR_FD, "fd-dir");
  uint64_t pathrights = __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_CREATE_FILE | __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_FD_FILESTAT_GET;
  expect("path_open a directory with path rights only", open_at(DIR_FD, "fd-dir", __WASI_OFLAGS_DIRECTORY, pathrights, ALL_FILE_RIGHTS, 0, &dir), 0);
  __wasi_fdstat_t fs;
  raw_fd_fdstat_get(dir, P(&fs));
  truth("a directory's fdstat: a directory", fs.fs_filetype == __WASI_FILETYPE_DIRECTORY);
  truth_u64("a directory's rights: those asked", fs.fs_rights_base, pathrights);
  expect("a directory without fd_write creates a file", open_at(dir, "f1", __WASI_OFLAGS_CREAT, ALL_FILE_RIGHTS, 0, 0, &fd), 0);
  raw_fd_close(fd);
  make_file("fd-dir/f2", "22");
  __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
  expect3("fd_read of a directory", raw_fd_read(dir, P(&iov), 1, P(&n)), __WASI_ERRNO_ISDIR, __WASI_ERRNO_BADF, __WASI_ERRNO_NOTCAPABLE);
  __wasi_ciovec_t out = {(const uint8_t *)"x", 1};
  expect3("fd_write to a directory", raw_fd_write(dir, P(&out), 1, P(&n)), __WASI_ERRNO_ISDIR, __WASI_ERRNO_BADF, __WASI_ERRNO_NOTCAPABLE);
  uint64_t at;
  expect3("fd_seek on a directory", raw_fd_seek(dir, 0, __WASI_WHENCE_SET, P(&at)), __WASI_ERRNO_ISDIR, __WASI_ERRNO_BADF, __WASI_ERRNO_NOTCAPABLE);

  /* fd_readdir: ".", "..", f1, f2, with cookies that go on where a small buffer stopped. */
  uint8_t listing[4096];
  int32_t used;
  expect("fd_readdir", raw_fd_readdir(dir, P(listing), sizeof listing, 0, P(&used)), 0);
  int found_dot = 0, found_dotdot = 0, found_f1 = 0, found_f2 = 0, entries = 0;
  __wasi_filestat_t self;
  raw_fd_filestat_get(dir, P(&self));
  uint64_t dot_ino = 0;
  for (int32_t at = 0; at + (int32_t)sizeof(__wasi_dirent_t) <= used;) {
    __wasi_dirent_t d;
    memcpy(&d, listing + at, sizeof d);
    const char *name = (const char *)listing + at + sizeof d;
    entries++;
    if (d.d_namlen == 1 && name[0] == '.') {
      found_dot = d.d_type == __WASI_FILETYPE_DIRECTORY;
      dot_ino = d.d_ino;
    }
    if (d.d_namlen == 2 && memcmp(name, "..", 2) == 0) found_dotdot = d.d_type == __WASI_FILETYPE_DIRECTORY;
    if (d.d_namlen == 2 && memcmp(name, "f1", 2) == 0) found_f1 = d.d_type == __WASI_FILETYPE_REGULAR_FILE;
    if (d.d_namlen == 2 && memcmp(name, "f2", 2) == 0) found_f2 = 1;
    at += sizeof d + d.d_namlen;
  }
  truth("fd_readdir lists . and ..", found_dot && found_dotdot);
  truth_u64("fd_readdir: . has the directory's inode", dot_ino, self.ino);
  truth("fd_readdir lists the files", found_f1 && found_f2 && entries == 4);
  int total = 0;
  uint64_t cookie = 0;
  for (int round = 0; round < 20; round++) {
    uint8_t small[40];
    expect("fd_readdir with a small buffer", raw_fd_readdir(dir, P(small), sizeof small, cookie, P(&used)), 0);
    if (used < (int32_t)sizeof(__wasi_dirent_t)) break;
    __wasi_dirent_t d;
    memcpy(&d, small, sizeof d);
    total++;
    cookie = d.d_next;
    if (used < (int32_t)sizeof small) break;
  }
  truth_u64("fd_readdir goes on from each entry's d_next", total, 4);
  int32_t file;
  open_at(DIR_FD, "fd-dir/f2", 0, ALL_FILE_RIGHTS, 0, 0, &file);
  expect("fd_readdir of a file", raw_fd_readdir(file, P(listing), sizeof listing, 0, P(&used)), __WASI_ERRNO_NOTDIR);
  raw_fd_close(file);
  raw_fd_close(dir);
  unlink_at(DIR_FD, "fd-dir/f1");
  unlink_at(DIR_FD, "fd-dir/f2");
  rmdir_at(DIR_FD, "fd-dir");
}

static void streams(void) {
  uint64_t at;
  __wasi_fdstat_t fs;
  expect("fd_seek on stdout", raw_fd_seek(1, 0, __WASI_WHENCE_CUR, P(&at)), __WASI_ERRNO_SPIPE);
  char buf[4];
  __wasi_iovec_t iov = {(uint8_t *)buf, 4};
  int32_t n;
  expect("fd_pread on stdin", raw_fd_pread(0, P(&iov), 1, 0, P(&n)), __WASI_ERRNO_SPIPE);
  expect("fd_fdstat_get of stdout", raw_fd_fdstat_get(1, P(&fs)), 0);
  truth("stdout may be written", (fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0);
  // CONF_STDOUT says what the test made stdout: a terminal is a character device (isatty true), a
  // pipe is not (bzip2 -c refuses to write to a terminal; programs buffer by isatty).
  const char *kind = getenv("CONF_STDOUT");
  if (kind && strcmp(kind, "terminal") == 0) truth("stdout, a terminal, is a character device", fs.fs_filetype == __WASI_FILETYPE_CHARACTER_DEVICE);
  if (kind && strcmp(kind, "pipe") == 0) truth("stdout, a pipe, is not a character device", fs.fs_filetype != __WASI_FILETYPE_CHARACTER_DEVICE);
}

static void preopens(void) {
  __wasi_prestat_t pre;
  expect("fd_prestat_get of the preopen", raw_fd_prestat_get(DIR_FD, P(&pre)), 0);
  truth("the preopen is a directory", pre.tag == __WASI_PREOPENTYPE_DIR && pre.u.dir.pr_name_len > 0);
  char name[64];
  expect2("fd_prestat_dir_name into too small a buffer", raw_fd_prestat_dir_name(DIR_FD, P(name), 0), __WASI_ERRNO_NAMETOOLONG, __WASI_ERRNO_INVAL);
  expect("fd_prestat_dir_name", raw_fd_prestat_dir_name(DIR_FD, P(name), sizeof name), 0);
  expect("fd_prestat_get of stdout", raw_fd_prestat_get(1, P(&pre)), __WASI_ERRNO_BADF);
  expect("fd_prestat_get past the preopens", raw_fd_prestat_get(DIR_FD + 40, P(&pre)), __WASI_ERRNO_BADF);
}

int main(void) {
  file_io();
  big_io();
  medium_io();
  renumber();
  rights();
  directory();
  streams();
  preopens();
  /* Last: a preopen really closes. */
  expect("fd_close of a preopen", raw_fd_close(DIR_FD), 0);
  __wasi_prestat_t pre;
  expect("fd_prestat_get of a closed preopen", raw_fd_prestat_get(DIR_FD, P(&pre)), __WASI_ERRNO_BADF);
  int32_t fd;
  expect("path_open under a closed preopen", open_at(DIR_FD, "x", 0, 0, 0, 0, &fd), __WASI_ERRNO_BADF);
  return finish("fd");
}
