/* Reads standard input to its end (or until argv[2] bytes, then exits without reading the rest)
 * with reads of at most argv[1] bytes (default 1 MiB) and says what it got: "bytes N reads R
 * largest L fnv X" (X the FNV-1a hash of the bytes). With argv[3] "bad", it first reads into an
 * address past its memory, which must fail with EFAULT (else it exits 4) and lose nothing. Used
 * by the tests of large reads of a file or pipe given as stdin (test/personality/run-stdin.test.ts). */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t size = argc > 1 ? strtoul(argv[1], 0, 10) : 1 << 20;
  unsigned long long stop = argc > 2 ? strtoull(argv[2], 0, 10) : ~0ull;
  unsigned char *buf = malloc(size);
  if (!buf) return 3;
  unsigned long long total = 0;
  unsigned reads = 0;
  ssize_t largest = 0;
  unsigned hash = 2166136261u;
  if (argc > 3 && strcmp(argv[3], "bad") == 0 && (read(0, (void *)0xfffff000u, 65536) != -1 || errno != EFAULT)) return 4;
  while (total < stop) {
    size_t want = size;
    if (stop - total < want) want = stop - total;
    ssize_t got = read(0, buf, want);
    if (got < 0) {
      perror("read");
      return 2;
    }
    if (got == 0) break;
    reads++;
    if (got > largest) largest = got;
    for (ssize_t i = 0; i < got; i++) hash = (hash ^ buf[i]) * 16777619u;
    total += got;
  }
  printf("bytes %llu reads %u largest %zd fnv %08x\n", total, reads, largest, hash);
  return 0;
}
