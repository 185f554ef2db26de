/* Bad input through every kind of argument: fds past any table, buffers that cross the end of
 * memory, iovec counts in the millions, a path of 1 MiB. Each is an errno, never a fault; the
 * program goes on and says so at the end. Scratch directory as fd 3. */
#include "check.h"

#define E(x) __WASI_ERRNO_##x

/* The end of memory now (an allocation may grow it). */
#define end ((int32_t)(__builtin_wasm_memory_size(0) * 65536u))

int main(void) {
  int32_t n;
  char buf[16] = "abc";
  __wasi_ciovec_t iov = {(const uint8_t *)buf, 3};
  expect("fd_write to an fd past the table", raw_fd_write(1000000, P(&iov), 1, P(&n)), E(BADF));
  expect("fd_write to fd -1", raw_fd_write(-1, P(&iov), 1, P(&n)), E(BADF));
  expect("fd_close of fd 0x7fffffff", raw_fd_close(0x7fffffff), E(BADF));
  __wasi_filestat_t st;
  expect("fd_filestat_get of fd 70000", raw_fd_filestat_get(70000, P(&st)), E(BADF));
  expect("path_open under fd 99999", raw_path_open(99999, 0, P("x"), 1, 0, 0, 0, 0, P(&n)), E(BADF));

  __wasi_ciovec_t crossing = {(const uint8_t *)(intptr_t)(end - 4), 100};
  expect("fd_write from a buffer that crosses the end of memory", raw_fd_write(1, P(&crossing), 1, P(&n)), E(FAULT));
  __wasi_iovec_t into = {(uint8_t *)(intptr_t)(end - 4), 100};
  make_file("b-file", "0123456789");
  int32_t fd;
  open_at(DIR_FD, "b-file", 0, ALL_FILE_RIGHTS, 0, 0, &fd);
  expect("fd_read into a buffer that crosses the end of memory", raw_fd_read(fd, P(&into), 1, P(&n)), E(FAULT));
  // The same with more than fits in a message (a system's file server takes such transfers
  // through a buffer): refused whole, the file as it was.
  static uint8_t thousand[1000], back[1000];
  memset(thousand, 'x', sizeof thousand);
  int32_t big;
  clean("b-big");
  open_at(DIR_FD, "b-big", __WASI_OFLAGS_CREAT, ALL_FILE_RIGHTS, 0, 0, &big);
  __wasi_ciovec_t whole = {thousand, sizeof thousand};
  expect("fd_write of 1000 bytes", raw_fd_write(big, P(&whole), 1, P(&n)), 0);
  __wasi_iovec_t intoBig = {(uint8_t *)(intptr_t)(end - 4), 600};
  expect("fd_pread of 600 bytes into a buffer that crosses the end of memory", raw_fd_pread(big, P(&intoBig), 1, 0, P(&n)), E(FAULT));
  __wasi_ciovec_t fromBig = {(const uint8_t *)(intptr_t)(end - 4), 600};
  expect("fd_pwrite of 600 bytes from a buffer that crosses the end of memory", raw_fd_pwrite(big, P(&fromBig), 1, 0, P(&n)), E(FAULT));
  __wasi_iovec_t all = {back, sizeof back};
  expect("fd_pread of the 1000 bytes after", raw_fd_pread(big, P(&all), 1, 0, P(&n)), 0);
  truth("the file holds what it held: nothing of the refused write", n == 1000 && memcmp(back, thousand, 1000) == 0);
  raw_fd_close(big);
  unlink_at(DIR_FD, "b-big");
  expect("fd_write with the iovec array past the end", raw_fd_write(1, end - 4, 1, P(&n)), E(FAULT));
  expect("fd_write with the count's word past the end", raw_fd_write(fd, P(&iov), 1, end - 2), E(FAULT));
  expect("fd_write with a count of 5 million iovecs", raw_fd_write(1, P(&iov), 5000000, P(&n)), E(INVAL));
  expect("fd_read with a count of 2^31 - 1 iovecs", raw_fd_read(fd, P(&into), 0x7fffffff, P(&n)), E(INVAL));
  expect("fd_filestat_get into memory's end", raw_fd_filestat_get(fd, end - 8), E(FAULT));
  expect("fd_filestat_get at address -8", raw_fd_filestat_get(fd, -8), E(FAULT));
  raw_fd_close(fd);

  const int32_t mib = 1 << 20;
  char *path = malloc(mib);
  memset(path, 'a', mib);
  expect("path_open of a 1 MiB path", raw_path_open(DIR_FD, 0, P(path), mib, 0, 0, 0, 0, P(&n)), E(NAMETOOLONG));
  expect("path_create_directory of a 1 MiB path", raw_path_create_directory(DIR_FD, P(path), mib), E(NAMETOOLONG));
  expect("path_rename of a 1 MiB path", raw_path_rename(DIR_FD, P(path), mib, DIR_FD, P("x"), 1), E(NAMETOOLONG));
  expect("path_open of a path that crosses the end of memory", raw_path_open(DIR_FD, 0, end - 3, 100, 0, 0, 0, 0, P(&n)), E(FAULT));
  expect("path_open of a path 2 GiB long", raw_path_open(DIR_FD, 0, P(path), 0x7fffffff, 0, 0, 0, 0, P(&n)), E(NAMETOOLONG));
  free(path);

  expect("args_get into memory's end", raw_args_get(end - 4, end - 2), E(FAULT));
  expect("random_get past the end", raw_random_get(end - 8, 64), E(FAULT));
  uint8_t listing[64];
  expect("fd_readdir into memory's end", raw_fd_readdir(DIR_FD, end - 8, 4096, 0, P(&n)), E(FAULT));
  expect("fd_readdir with its count past the end", raw_fd_readdir(DIR_FD, P(listing), sizeof listing, 0, end - 1), E(FAULT));
  __wasi_event_t ev;
  expect("poll_oneoff with subscriptions past the end", raw_poll_oneoff(end - 16, P(&ev), 1, P(&n)), E(FAULT));
  expect2("poll_oneoff with a million subscriptions", raw_poll_oneoff(P(listing), P(&ev), 1000000, P(&n)), E(INVAL), E(FAULT));
  unlink_at(DIR_FD, "b-file");
  truth("still running after all of it", 1);
  return finish("bad-input");
}
