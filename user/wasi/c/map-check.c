/* A WASI program's reads of a file another handle changes (docs/FS.md "Mapped reads"; test/
 * personality/in-system.test.ts): fd A reads a 64 KiB file enough times for the personality to map
 * it (its reads then make no call), while fd B writes, cuts and grows it. Every read through A,
 * of 4 KiB and of 16 bytes, must see what a read through the server would: a write at once, no
 * byte past a cut, zeros in a hole. Prints "map-check: all right", or "map-check: FAIL: ..." and
 * exits 1. Under the directory given (its preopen "."). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define SIZE (64u << 10)
static unsigned char buf[SIZE], got[SIZE];

static unsigned char pattern(unsigned at) { return (unsigned char)(at * 31 + 7); }

static void fail(const char *what, unsigned a, unsigned b) {
  printf("map-check: FAIL: %s: %u, not %u\n", what, a, b);
  exit(1);
}

static unsigned pread_(__wasi_fd_t fd, unsigned at, unsigned length) {
  __wasi_iovec_t iov = {got, length};
  __wasi_size_t n;
  if (__wasi_fd_pread(fd, &iov, 1, at, &n) != 0) fail("fd_pread failed at", at, 0);
  return n;
}

static void pwrite_(__wasi_fd_t fd, unsigned at, unsigned length) {
  __wasi_ciovec_t iov = {buf, length};
  __wasi_size_t n;
  if (__wasi_fd_pwrite(fd, &iov, 1, at, &n) != 0 || n != length) fail("fd_pwrite at", at, length);
}

/* Reads `length` at `at` through `fd`: `want` bytes, each pattern() below `zerosFrom` and 0 from there, but 0xee in [mark, mark + 100). */
static void expect(__wasi_fd_t fd, unsigned at, unsigned length, unsigned want, unsigned zerosFrom, unsigned mark) {
  unsigned n = pread_(fd, at, length);
  if (n != want) fail("bytes read", n, want);
  for (unsigned i = 0; i < n; i++) {
    unsigned offset = at + i;
    unsigned char w = offset >= mark && offset < mark + 100 ? 0xee : offset >= zerosFrom ? 0 : pattern(offset);
    if (got[i] != w) fail("a byte read", got[i], w);
  }
}

int main(void) {
  __wasi_fd_t a, b;
  __wasi_rights_t rw = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE;
  if (__wasi_path_open(3, 0, "mapped.dat", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, rw, 0, 0, &b) != 0) fail("open B", 0, 0);
  for (unsigned i = 0; i < SIZE; i++) buf[i] = pattern(i);
  pwrite_(b, 0, SIZE);
  if (__wasi_path_open(3, 0, "mapped.dat", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK, 0, 0, &a) != 0) fail("open A", 0, 0);
  const unsigned NONE = ~0u;
  for (unsigned i = 0; i < 16; i++) expect(a, i * 4096, 4096, 4096, SIZE, NONE); /* mapped along the way */
  expect(a, 100, 16, 16, SIZE, NONE);
  /* A write through B: seen by A's next reads at once. */
  memset(buf, 0xee, 100);
  pwrite_(b, 5000, 100);
  expect(a, 4096, 4096, 4096, SIZE, 5000);
  expect(a, 5090, 16, 16, SIZE, 5000);
  for (unsigned i = 0; i < 100; i++) buf[i] = pattern(5000 + i);
  pwrite_(b, 5000, 100);
  /* Cut through B: A's reads stop at the new end. */
  if (__wasi_fd_filestat_set_size(b, 6000) != 0) fail("cut", 0, 0);
  expect(a, 4096, 8192, 6000 - 4096, SIZE, NONE);
  expect(a, 5990, 16, 10, SIZE, NONE);
  expect(a, 6000, 4096, 0, SIZE, NONE);
  /* Grown through B (a hole, then bytes): zeros, then the bytes. */
  for (unsigned i = 0; i < 4096; i++) buf[i] = pattern(30000 + i);
  pwrite_(b, 30000, 4096);
  expect(a, 5000, 25000, 25000, 6000, NONE);
  {
    unsigned n = pread_(a, 29990, 16); /* 10 zeros, then 6 bytes */
    if (n != 16) fail("bytes read across the hole's end", n, 16);
    for (unsigned i = 0; i < n; i++) {
      unsigned char w = i < 10 ? 0 : pattern(29990 + i);
      if (got[i] != w) fail("a byte across the hole's end", got[i], w);
    }
  }
  printf("map-check: all right\n");
  return 0;
}
