/* Does file operations its arguments name, one after the other, and says how each went, so a test
 * can drive a WASI program's files from the command line (test/personality/run-dir.test.ts):
 *   w:PATH=TEXT   write TEXT (and a newline) to PATH, made or emptied
 *   r:PATH        print PATH's contents
 *   ls:PATH       list the directory PATH
 *   rm:PATH       remove the file PATH
 *   ln:TARGET=PATH  make PATH a symbolic link to TARGET
 *   mv:FROM=TO    rename FROM to TO
 *   hl:FROM=TO    make TO a hard link to FROM (a link as FROM is not followed)
 *   empty:PATH    remove each file of the directory PATH as readdir gives it (as rm -r does), and
 *                 say how many it removed and how many are left
 * Each prints "OP PATH: ok ..." or "OP PATH: errno N" (wasi-libc's errno is WASI's number). The exit
 * code is the number of operations that failed. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failed;

static void fail(const char *op, const char *path) {
  printf("%s %s: errno %d\n", op, path, errno);
  failed++;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char *arg = argv[i];
    char *colon = strchr(arg, ':');
    if (!colon) continue;
    *colon = 0;
    const char *op = arg;
    char *path = colon + 1;
    errno = 0;
    if (strcmp(op, "w") == 0) {
      char *eq = strchr(path, '=');
      const char *text = "";
      if (eq) {
        *eq = 0;
        text = eq + 1;
      }
      FILE *f = fopen(path, "w");
      if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0) fail(op, path);
      else printf("w %s: ok\n", path);
    } else if (strcmp(op, "r") == 0) {
      FILE *f = fopen(path, "r");
      if (!f) {
        fail(op, path);
        continue;
      }
      char line[512];
      printf("r %s: ok", path);
      while (fgets(line, sizeof line, f)) printf(" %s", line);
      printf("\n");
      fclose(f);
    } else if (strcmp(op, "ls") == 0) {
      DIR *d = opendir(path);
      if (!d) {
        fail(op, path);
        continue;
      }
      printf("ls %s: ok", path);
      struct dirent *e;
      while ((e = readdir(d))) printf(" %s", e->d_name);
      printf("\n");
      closedir(d);
    } else if (strcmp(op, "ln") == 0) {
      char *eq = strchr(path, '=');
      if (!eq) continue;
      *eq = 0;
      if (symlink(path, eq + 1) != 0) fail(op, eq + 1);
      else printf("ln %s: ok\n", eq + 1);
    } else if (strcmp(op, "mv") == 0 || strcmp(op, "hl") == 0) {
      char *eq = strchr(path, '=');
      if (!eq) continue;
      *eq = 0;
      int status = op[0] == 'm' ? rename(path, eq + 1) : link(path, eq + 1);
      if (status != 0) fail(op, eq + 1);
      else printf("%s %s: ok\n", op, eq + 1);
    } else if (strcmp(op, "empty") == 0) {
      DIR *d = opendir(path);
      if (!d) {
        fail(op, path);
        continue;
      }
      int removed = 0, left = 0;
      struct dirent *e;
      char name[4096];
      while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(name, sizeof name, "%s/%s", path, e->d_name);
        if (unlink(name) == 0) removed++;
      }
      rewinddir(d);
      while ((e = readdir(d))) left += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
      closedir(d);
      printf("empty %s: ok removed %d left %d\n", path, removed, left);
    } else if (strcmp(op, "rm") == 0) {
      if (unlink(path) != 0) fail(op, path);
      else printf("rm %s: ok\n", path);
    }
  }
  return failed;
}
