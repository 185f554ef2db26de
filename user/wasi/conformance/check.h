/* The conformance programs' checks: each prints one line, "ok NAME", "FAIL NAME<tab>why" or
 * "skip NAME<tab>why" (a feature the directory's server does not have: ENOTSUP), and `finish`
 * prints the count and exits with the number of failures. A run is judged by those lines
 * (test/personality/). Everything here speaks raw WASI (raw.h) but printing, which is libc's. */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <wasi/api.h>
#include "raw.h"

static int checks, failures, skips;

/* One line at a time, so that a run that hangs or dies shows how far it got. */
__attribute__((constructor)) static void line_buffered(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
}

#define P(x) ((int32_t)(intptr_t)(x))
#define DIR_FD 3

/* Run under node:wasi as a reference (CONFORMANCE_REFERENCE=node:wasi): checks that hang it are skipped. */
static int under_node(void) {
  const char *reference = getenv("CONFORMANCE_REFERENCE");
  return reference && strcmp(reference, "node:wasi") == 0;
}

static void skip(const char *name, const char *why) {
  skips++;
  printf("skip %s\t%s\n", name, why);
}

static void report(const char *name, int ok, const char *why) {
  checks++;
  if (ok) printf("ok %s\n", name);
  else {
    failures++;
    printf("FAIL %s\t%s\n", name, why);
  }
}

/** The call answers errno `want`. */
static void expect(const char *name, int32_t got, int32_t want) {
  char why[80];
  snprintf(why, sizeof why, "errno %d, want %d", got, want);
  report(name, got == want, why);
}

/** The call answers one of two errnos (where the standard leaves the choice). */
static void expect2(const char *name, int32_t got, int32_t want, int32_t or_want) {
  char why[80];
  snprintf(why, sizeof why, "errno %d, want %d or %d", got, want, or_want);
  report(name, got == want || got == or_want, why);
}

/** The call answers one of three errnos. */
static void expect3(const char *name, int32_t got, int32_t a, int32_t b, int32_t c) {
  char why[80];
  snprintf(why, sizeof why, "errno %d, want %d, %d or %d", got, a, b, c);
  report(name, got == a || got == b || got == c, why);
}

/** As expect, but ENOTSUP (a server without the feature) is a skip, not a failure. */
static int expect_or_skip(const char *name, int32_t got, int32_t want) {
  if (got == __WASI_ERRNO_NOTSUP && want != __WASI_ERRNO_NOTSUP) {
    skips++;
    printf("skip %s\tthe server has no such operation (ENOTSUP)\n", name);
    return 0;
  }
  expect(name, got, want);
  return got == want;
}

static void truth(const char *name, int ok) {
  report(name, ok, "not so");
}

static void truth_u64(const char *name, uint64_t got, uint64_t want) {
  char why[80];
  snprintf(why, sizeof why, "%llu, want %llu", (unsigned long long)got, (unsigned long long)want);
  report(name, got == want, why);
}

static int finish(const char *program) {
  printf("%s: %d checks, %d failed, %d skipped\n", program, checks, failures, skips);
  fflush(stdout);
  return failures;
}

/* ---- Helpers ------------------------------------------------------------------------------ */

#define ALL_FILE_RIGHTS                                                                                             \
  (__WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | \
   __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_ADVISE |                \
   __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE |                  \
   __WASI_RIGHTS_FD_FILESTAT_SET_TIMES | __WASI_RIGHTS_POLL_FD_READWRITE)

/** path_open of a C string under `dir`: the errno, the fd at *fd. */
static int32_t open_at(int32_t dir, const char *path, int32_t oflags, uint64_t base, uint64_t inheriting, int32_t fdflags, int32_t *fd) {
  return raw_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, P(path), (int32_t)strlen(path), oflags, (int64_t)base, (int64_t)inheriting, fdflags, P(fd));
}

/** A new file `path` in the scratch directory holding `text`, closed: 0, or the errno. */
static int32_t make_file(const char *path, const char *text) {
  int32_t fd;
  int32_t e = open_at(DIR_FD, path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, ALL_FILE_RIGHTS, 0, 0, &fd);
  if (e) return e;
  __wasi_ciovec_t iov = {(const uint8_t *)text, strlen(text)};
  int32_t n;
  e = raw_fd_write(fd, P(&iov), 1, P(&n));
  raw_fd_close(fd);
  return e;
}

static int32_t mkdir_at(int32_t dir, const char *path) {
  return raw_path_create_directory(dir, P(path), (int32_t)strlen(path));
}
static int32_t rmdir_at(int32_t dir, const char *path) {
  return raw_path_remove_directory(dir, P(path), (int32_t)strlen(path));
}
static int32_t unlink_at(int32_t dir, const char *path) {
  return raw_path_unlink_file(dir, P(path), (int32_t)strlen(path));
}
static int32_t stat_at(int32_t dir, int32_t flags, const char *path, __wasi_filestat_t *st) {
  return raw_path_filestat_get(dir, flags, P(path), (int32_t)strlen(path), P(st));
}
static int32_t rename_at(int32_t dir, const char *from, int32_t newdir, const char *to) {
  return raw_path_rename(dir, P(from), (int32_t)strlen(from), newdir, P(to), (int32_t)strlen(to));
}
static int32_t symlink_at(const char *target, int32_t dir, const char *path) {
  return raw_path_symlink(P(target), (int32_t)strlen(target), dir, P(path), (int32_t)strlen(path));
}
static int32_t link_at(int32_t dir, int32_t flags, const char *from, int32_t newdir, const char *to) {
  return raw_path_link(dir, flags, P(from), (int32_t)strlen(from), newdir, P(to), (int32_t)strlen(to));
}

/** Removes what a program left behind in the scratch directory, whatever it is (errors ignored). */
static void clean(const char *path) {
  unlink_at(DIR_FD, path);
  rmdir_at(DIR_FD, path);
}

#endif
