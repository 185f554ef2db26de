/* Many files open at once, each written and read back in calls of SIZE bytes (test/personality/
 * folder-attach.test.ts): COUNT files f0..f(COUNT-1) under the preopen, TOTAL bytes each, the
 * calls of all files interleaved, then each read back and compared. Past the host folder server's
 * attached handles (16) the personality's calls move Regions; every byte must come back either way.
 * Prints "many-files: ok COUNT" or what differed, and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static unsigned char at(size_t file, size_t i) { return (unsigned char)(i * 13 + file * 29 + (i >> 12)); }

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  size_t count = strtoul(argv[1], 0, 10), size = strtoul(argv[2], 0, 10), total = strtoul(argv[3], 0, 10);
  __wasi_fd_t *fds = calloc(count, sizeof *fds);
  unsigned char *buf = malloc(size);
  __wasi_rights_t rights = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK;
  for (size_t f = 0; f < count; f++) {
    char name[16];
    snprintf(name, sizeof name, "f%zu", f);
    if (__wasi_path_open(3, 0, name, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, rights, 0, 0, &fds[f]) != 0) {
      printf("many-files: cannot open %s\n", name);
      return 1;
    }
  }
  for (size_t done = 0; done < total; done += size) {
    for (size_t f = 0; f < count; f++) {
      for (size_t i = 0; i < size; i++) buf[i] = at(f, done + i);
      __wasi_ciovec_t iov = {buf, size};
      __wasi_size_t n;
      if (__wasi_fd_write(fds[f], &iov, 1, &n) != 0 || n != size) {
        printf("many-files: write of f%zu at %zu failed\n", f, done);
        return 1;
      }
    }
  }
  for (size_t f = 0; f < count; f++) {
    __wasi_filesize_t to;
    if (__wasi_fd_seek(fds[f], 0, __WASI_WHENCE_SET, &to) != 0) return 1;
  }
  for (size_t done = 0; done < total; done += size) {
    for (size_t f = 0; f < count; f++) {
      __wasi_iovec_t iov = {buf, size};
      __wasi_size_t n;
      if (__wasi_fd_read(fds[f], &iov, 1, &n) != 0 || n != size) {
        printf("many-files: read of f%zu at %zu failed\n", f, done);
        return 1;
      }
      for (size_t i = 0; i < size; i++)
        if (buf[i] != at(f, done + i)) {
          printf("many-files: f%zu byte %zu differs\n", f, done + i);
          return 1;
        }
    }
  }
  for (size_t f = 0; f < count; f++) (void)__wasi_fd_close(fds[f]);
  printf("many-files: ok %zu\n", count);
  return 0;
}
