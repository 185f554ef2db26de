/* Prints what a program started from the shell sees: its arguments, its environment, and the
 * contents of the files its arguments name (relative paths resolve against the working
 * directory, the preopen "."). Used by the shell's tests (test/programs/shell-language.test.ts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) printf("arg %s\n", argv[i]);
  for (char **e = environ; *e; e++) printf("env %s\n", *e);
  int status = 0;
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "r");
    if (!f) {
      printf("cannot open %s\n", argv[i]);
      status = 1;
      continue;
    }
    char line[256];
    while (fgets(line, sizeof line, f)) printf("%s: %s", argv[i], line);
    fclose(f);
  }
  return status;
}
