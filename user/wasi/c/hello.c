/* A WASI hello world: what a program's start costs (bench/wasi-io.ts). */
#include <stdio.h>

int main(void) {
  printf("hello, world\n");
  return 0;
}
