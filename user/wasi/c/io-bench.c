/* File throughput as a WASI program sees it (bench/wasi-io.ts): writes TOTAL bytes to FILE in
 * calls of SIZE bytes (fd_write), then reads them back in calls of SIZE (fd_read), and prints
 * "io-bench: write|read SIZE TOTAL NS" for each, timed with the monotonic clock. The file is
 * under the directory the program is given (its preopen "."). With PASSES (default 1), the read
 * pass is made that many times, each after the first printed "io-bench: reread SIZE TOTAL NS"
 * (bench/wasi-read.ts: a file read again, which a map answers with no call). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static uint64_t now(void) {
  uint64_t t = 0;
  __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
  return t;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: io-bench FILE SIZE TOTAL\n");
    return 2;
  }
  const char *file = argv[1];
  size_t size = strtoul(argv[2], 0, 10), total = strtoul(argv[3], 0, 10);
  int passes = argc > 4 ? atoi(argv[4]) : 1;
  unsigned char *buf = malloc(size);
  memset(buf, 7, size);
  __wasi_fd_t fd;
  __wasi_rights_t rights = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK;
  if (__wasi_path_open(3, 0, file, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, rights, 0, 0, &fd) != 0) {
    fprintf(stderr, "io-bench: cannot open %s\n", file);
    return 1;
  }
  uint64_t start = now();
  for (size_t done = 0; done < total;) {
    __wasi_ciovec_t iov = {buf, size};
    __wasi_size_t n;
    if (__wasi_fd_write(fd, &iov, 1, &n) != 0 || n == 0) return 1;
    done += n;
  }
  uint64_t wrote = now() - start;
  uint64_t read = 0;
  for (int pass = 0; pass < passes; pass++) {
    __wasi_filesize_t at;
    __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &at);
    start = now();
    for (size_t done = 0; done < total;) {
      __wasi_iovec_t iov = {buf, size};
      __wasi_size_t n;
      if (__wasi_fd_read(fd, &iov, 1, &n) != 0 || n == 0) return 1;
      done += n;
    }
    uint64_t took = now() - start;
    if (pass == 0) {
      read = took;
      printf("io-bench: write %zu %zu %llu\n", size, total, (unsigned long long)wrote);
      printf("io-bench: read %zu %zu %llu\n", size, total, (unsigned long long)read);
    } else printf("io-bench: reread %zu %zu %llu\n", size, total, (unsigned long long)took);
  }
  __wasi_fd_close(fd);
  return 0;
}
