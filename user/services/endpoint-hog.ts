// A hostile program for test/programs/endpoint-hog.test.ts: run from the shell with its streams
// only, it looks up each service named in its arguments and copies the capability it got until
// the kernel refuses ("reservations exhausting queues": each copy of a contract endpoint keeps
// slots of its service's queue), then says how many it holds and waits, holding them:
//   endpoint-hog: NAME: N copies, then STATUS
import { print, args, errorName, capCopy, registryLookup, sleep } from "../lib";

const given = args();
for (let i = 1; i < given.length; i++) {
  const cap = registryLookup(given[i]);
  if (cap < 0) {
    print("endpoint-hog: " + given[i] + ": lookup " + errorName(cap));
    continue;
  }
  let copies = 0;
  let status = 0;
  while (copies < 100_000) {
    status = capCopy(cap);
    if (status < 0) break;
    copies++;
  }
  print("endpoint-hog: " + given[i] + ": " + copies.toString() + " copies, then " + (status < 0 ? errorName(status) : "none refused"));
}
for (;;) sleep(1_000_000_000);
