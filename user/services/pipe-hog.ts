// A hostile program for test/programs/pipe-hog.test.ts: run from the shell, it looks up the pipe
// service and makes pipes until refused, then says how many it holds and waits, holding them
// (the pipe service never learns that a holder ended: its 64 pipes were everyone's):
//   pipe-hog: N pipes, then STATUS   (or: pipe-hog: lookup STATUS)
import { print, errorName, registryLookup, sleep } from "../lib";
import { PIPE_SERVICE, createPipe } from "../lib/pipe-client";

const service = registryLookup(PIPE_SERVICE);
if (service < 0) print("pipe-hog: lookup " + errorName(service));
else {
  let pipes = 0;
  let status = 0;
  while (pipes < 1000) {
    const ends = createPipe(service);
    status = ends.status;
    if (status < 0) break;
    pipes++;
  }
  print("pipe-hog: " + pipes.toString() + " pipes, then " + (status < 0 ? errorName(status) : "none refused"));
}
for (;;) sleep(1_000_000_000);
