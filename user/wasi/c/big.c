/* A binary over 4 MiB (5 MiB of initialized data), to show the shell and the kernel load it. */
#include <stdio.h>

static unsigned char big[5 << 20] = {1, 2, 3};

int main(void) {
  unsigned sum = 0;
  for (unsigned i = 0; i < sizeof big; i += 4096) sum += big[i];
  big[sizeof big - 1] = 7;
  printf("big: %u bytes of data, sum %u\n", (unsigned)sizeof big, sum + big[sizeof big - 1]);
  return 0;
}
