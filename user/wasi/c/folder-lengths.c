/* A hostile client of its host folder's server (test/personality/run-dir.test.ts): it calls the
 * root it was given (slot 3, its first --dir) itself, with SYMLINK, RENAME and LINK requests whose
 * two path lengths add up, past 2^32, to a few bytes, then says whether the server still serves
 * (a file written and read back through WASI). Each request prints "NAME: STATUS" (the call's
 * status, or the server's answer). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

__attribute__((import_module("dogma"), import_name("invoke"))) int32_t dogma_invoke(int32_t cap, int32_t msg, int32_t len);

#define ROOT 3
static uint32_t message[73];

/* Calls the root with `label`, the words `words` (n of them) then the 8 bytes "abcdefgh". */
static int32_t call(uint32_t label, const uint32_t *words, uint32_t n) {
  memset(message, 0, sizeof message);
  message[0] = label;
  message[1] = n + 2;
  memcpy(&message[5], words, n * 4);
  memcpy(&message[5 + n], "abcdefgh", 8);
  int32_t status = dogma_invoke(ROOT, (int32_t)(uintptr_t)message, sizeof message);
  return status < 0 ? status : (int32_t)message[0]; /* the reply's label: the server's status */
}

int main(void) {
  /* SYMLINK: target length, link length: 200 + (8 - 200) is 8 past 2^32. */
  const uint32_t symlink[] = {200, (uint32_t)(8 - 200)};
  printf("symlink: %d\n", call(16, symlink, 2));
  /* RENAME: from length, to length: the first alone past every byte sent. */
  const uint32_t rename[] = {0xfffffff0u, 0x18};
  printf("rename: %d\n", call(5, rename, 2));
  /* LINK: flags, from length, to length. */
  const uint32_t link[] = {0, 12, (uint32_t)(8 - 12)};
  printf("link: %d\n", call(15, link, 3));
  const uint32_t link2[] = {0, 0x7fffffffu, 0x80000009u};
  printf("link2: %d\n", call(15, link2, 3));
  FILE *f = fopen("after.txt", "w");
  if (!f || fputs("still served\n", f) < 0 || fclose(f) != 0) {
    printf("after: cannot write\n");
    return 1;
  }
  char line[64] = {0};
  f = fopen("after.txt", "r");
  if (!f || !fgets(line, sizeof line, f)) {
    printf("after: cannot read\n");
    return 1;
  }
  printf("after: %s", line);
  return 0;
}
