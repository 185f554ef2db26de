/* Waits for standard input with poll_oneoff and a timeout of argv[1] milliseconds, then says
 * what came: "ready N" and the bytes read, "hangup" at the end of input, or "timeout". Used by
 * the tests of poll on pipes, files and the console (test/personality/in-system.test.ts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

int main(int argc, char **argv) {
  unsigned long long ms = argc > 1 ? strtoull(argv[1], 0, 10) : 1000;
  __wasi_subscription_t subs[2];
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 1;
  subs[0].u.tag = __WASI_EVENTTYPE_FD_READ;
  subs[0].u.u.fd_read.file_descriptor = 0;
  subs[1].userdata = 2;
  subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[1].u.u.clock.timeout = ms * 1000000ull;
  __wasi_event_t events[2];
  __wasi_size_t n = 0;
  int count = ms == 0 ? 1 : 2; /* 0: no clock, wait for input alone */
  if (__wasi_poll_oneoff(subs, events, count, &n) != 0) {
    printf("poll failed\n");
    return 1;
  }
  for (__wasi_size_t i = 0; i < n; i++) {
    if (events[i].userdata == 2) printf("timeout\n");
    else if (events[i].fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP) printf("hangup\n");
    else {
      char buf[300];
      ssize_t got = read(0, buf, sizeof buf - 1);
      buf[got > 0 ? got : 0] = 0;
      printf("ready %llu: %s", (unsigned long long)events[i].fd_readwrite.nbytes, buf);
    }
  }
  return 0;
}
