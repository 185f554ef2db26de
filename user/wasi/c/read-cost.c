/* What one WASI call costs, by kind (bench/wasi-read.ts): phases of N calls each of clock_time_get
 * (answered at once), fd_seek (its implementation awaits: the program's stack is suspended), and
 * fd_pread of 4 KiB and of 16 bytes at random offsets of a 4 MiB file it wrote and read once (its
 * map answers them), three rounds. Each phase is printed "read-cost: phase NAME" before and
 * "read-cost: phase-end" after, with a 40 ms sleep on both sides, for the host to read its own CPU
 * time around it (the clock counts what other work on a shared machine takes; CPU time does not).
 * Then "read-cost: done". Under the directory given (its preopen "."). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static uint64_t now(void) {
  uint64_t t = 0;
  __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
  return t;
}

#define FILE_BYTES (4u << 20)

/* 40 ms asleep: the host looks every few milliseconds. */
static void nap(void) {
  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof sub);
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  sub.u.u.clock.timeout = 40000000;
  __wasi_event_t event;
  __wasi_size_t n;
  __wasi_poll_oneoff(&sub, &event, 1, &n);
}

static void phase(const char *name) {
  printf("read-cost: phase %s\n", name);
  fflush(stdout);
  nap();
}

static void phaseEnd(void) {
  printf("read-cost: phase-end\n");
  fflush(stdout);
  nap();
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: read-cost FILE CALLS\n");
    return 2;
  }
  unsigned calls = strtoul(argv[2], 0, 10);
  static unsigned char buf[4096];
  memset(buf, 7, sizeof buf);
  __wasi_fd_t fd;
  __wasi_rights_t rights = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK;
  if (__wasi_path_open(3, 0, argv[1], __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, rights, 0, 0, &fd) != 0) {
    fprintf(stderr, "read-cost: cannot open %s\n", argv[1]);
    return 1;
  }
  __wasi_size_t n;
  for (unsigned at = 0; at < FILE_BYTES; at += sizeof buf) {
    __wasi_ciovec_t iov = {buf, sizeof buf};
    if (__wasi_fd_write(fd, &iov, 1, &n) != 0) return 1;
  }
  for (unsigned at = 0; at < FILE_BYTES; at += sizeof buf) {
    __wasi_iovec_t iov = {buf, sizeof buf};
    if (__wasi_fd_pread(fd, &iov, 1, at, &n) != 0) return 1;
  }
  for (int round = 0; round < 3; round++) {
    uint64_t t = 0;
    phase("clock_time_get");
    for (unsigned i = 0; i < calls; i++) __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
    phaseEnd();
    __wasi_filesize_t pos;
    phase("fd_seek");
    for (unsigned i = 0; i < calls; i++) __wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &pos);
    phaseEnd();
    unsigned seed = 12345;
    phase("fd_pread-4096");
    for (unsigned i = 0; i < calls; i++) {
      seed = seed * 1103515245u + 12345u;
      __wasi_iovec_t iov = {buf, 4096};
      if (__wasi_fd_pread(fd, &iov, 1, ((seed >> 8) % (FILE_BYTES / 4096)) * 4096, &n) != 0 || n != 4096) return 1;
    }
    phaseEnd();
    phase("fd_pread-16");
    for (unsigned i = 0; i < calls; i++) {
      seed = seed * 1103515245u + 12345u;
      __wasi_iovec_t iov = {buf, 16};
      if (__wasi_fd_pread(fd, &iov, 1, (seed >> 8) % (FILE_BYTES - 16), &n) != 0 || n != 16) return 1;
    }
    phaseEnd();
  }
  printf("read-cost: done\n");
  __wasi_fd_close(fd);
  return 0;
}
