/* Reading ahead kept true (test/personality/read-ahead.test.ts, docs/HOSTFS.md "Reading ahead"):
 * fd A reads a file of FILE bytes in small sequential reads (so the personality reads ahead of
 * them, 64 KiB at a time), and between two of its reads the file changes through fd B of the same
 * program — the server sees B as it sees any other process's handle —: a write of 16 bytes
 * (inline), of 1,000 bytes (through B's attached handle), a cut (ftruncate), an open with
 * O_TRUNC and a rewrite, a pwrite through A itself. Each read of A after a change must see it.
 * Also: the same bytes read by pread at random places agree with A's sequential reads.
 * Prints "read-ahead: ok" or what differed, and exits 1. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILE_BYTES (256 * 1024)
static unsigned char pattern(long i, int round) { return (unsigned char)(i * 7 + (i >> 9) + round * 101); }

static int fail(const char *what, long at) {
  printf("read-ahead: %s (at %ld)\n", what, at);
  exit(1);
}

static void fill(const char *name, int round) {
  int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail("cannot make the file", 0);
  static unsigned char chunk[4096];
  for (long at = 0; at < FILE_BYTES; at += sizeof chunk) {
    for (int i = 0; i < (int)sizeof chunk; i++) chunk[i] = pattern(at + i, round);
    if (write(fd, chunk, sizeof chunk) != (ssize_t)sizeof chunk) fail("cannot write the file", at);
  }
  close(fd);
}

/* Reads `n` bytes at A's position and checks each against `expect(i)`. */
static void expect_read(int a, long at, int n, unsigned char (*expect)(long)) {
  unsigned char buf[2048];
  if (read(a, buf, n) != n) fail("short read", at);
  for (int i = 0; i < n; i++)
    if (buf[i] != expect(at + i)) {
      printf("read-ahead: byte %ld is %u, not %u\n", at + i, buf[i], expect(at + i));
      exit(1);
    }
}

static unsigned char round0(long i) { return pattern(i, 0); }
static long written_at;
static int written_n;
static unsigned char changed(long i) { return i >= written_at && i < written_at + written_n ? (unsigned char)(0xA5 ^ (i & 0x3f)) : pattern(i, 0); }
static unsigned char round1(long i) { return pattern(i, 1); }

static void change(int b, long at, int n) {
  unsigned char buf[2048];
  for (int i = 0; i < n; i++) buf[i] = (unsigned char)(0xA5 ^ ((at + i) & 0x3f));
  if (pwrite(b, buf, n, at) != n) fail("cannot write through B", at);
  written_at = at;
  written_n = n;
}

int main(void) {
  fill("ra.dat", 0);
  int a = open("ra.dat", O_RDWR);
  int b = open("ra.dat", O_RDWR);
  if (a < 0 || b < 0) fail("cannot open", 0);
  long at = 0;
  /* Sequential 1,000-byte reads: the first reads ahead; its window covers the next ones. */
  for (int i = 0; i < 3; i++, at += 1000) expect_read(a, at, 1000, round0);
  /* 16 bytes written through B (inline) inside what A read ahead: A's next read sees them. */
  change(b, at + 10, 16);
  expect_read(a, at, 1000, changed);
  at += 1000;
  /* 1,000 bytes through B (its attached handle). */
  change(b, at + 500, 1000);
  expect_read(a, at, 1000, changed);
  at += 1000;
  expect_read(a, at, 1000, changed);
  at += 1000;
  /* A pwrite through A itself, ahead of its position. */
  {
    unsigned char buf[100];
    for (int i = 0; i < 100; i++) buf[i] = (unsigned char)(0xA5 ^ ((at + 200 + i) & 0x3f));
    if (pwrite(a, buf, 100, at + 200) != 100) fail("cannot pwrite through A", at);
    written_at = at + 200;
    written_n = 100;
    expect_read(a, at, 1000, changed);
    at += 1000;
  }
  /* Cut through B to just past A's position: A's next read is short, then at the end. */
  if (ftruncate(b, at + 100) != 0) fail("cannot cut", at);
  {
    unsigned char buf[1000];
    ssize_t n = read(a, buf, 1000);
    if (n != 100) {
      printf("read-ahead: after a cut to %ld, a read at %ld gave %zd bytes, not 100\n", at + 100, at, n);
      return 1;
    }
    if (read(a, buf, 1000) != 0) fail("a read past the cut gave bytes", at + 100);
  }
  /* The file made anew (O_TRUNC) with other bytes, A back at 0: A reads the new ones. */
  if (lseek(a, 0, SEEK_SET) != 0) fail("cannot seek", 0);
  expect_read(a, 0, 1000, changed);
  expect_read(a, 1000, 1000, changed); /* sequential again: reads ahead, to the cut file's end */
  {
    int c = open("ra.dat", O_WRONLY | O_TRUNC);
    if (c < 0) fail("cannot open with O_TRUNC", 0);
    close(c);
    unsigned char buf[1000];
    ssize_t n = read(a, buf, 1000);
    if (n != 0) {
      printf("read-ahead: after an open with O_TRUNC, a read at 2000 gave %zd bytes, not 0\n", n);
      return 1;
    }
  }
  fill("ra.dat", 1);
  if (lseek(a, 0, SEEK_SET) != 0) fail("cannot seek", 0);
  at = 0;
  for (int i = 0; i < 100; i++, at += 1000) expect_read(a, at, 1000, round1);
  /* Small reads (under 240 bytes) read ahead too; pread at random places agrees. */
  for (int i = 0; i < 200; i++, at += 100) expect_read(a, at, 100, round1);
  srand(7);
  for (int i = 0; i < 500; i++) {
    long p = rand() % (FILE_BYTES - 64);
    unsigned char buf[64];
    if (pread(a, buf, 64, p) != 64) fail("short pread", p);
    for (int k = 0; k < 64; k++)
      if (buf[k] != pattern(p + k, 1)) fail("pread differs", p + k);
  }
  close(a);
  close(b);
  printf("read-ahead: ok\n");
  return 0;
}
