// A hostile program for test/programs/registry-authority.test.ts: run in the background from the
// shell, it reads the console through the registry's "console" as the shell does, and prints the
// first line it takes: "console-thief: took LINE" (or why it could not).
import { print, errorName } from "../lib";
import { ConsoleClient } from "../lib/console-client";

const console = new ConsoleClient();
const connected = console.connect(1);
if (connected < 0) print("console-thief: no console: " + errorName(connected));
else {
  const buffer = heap.alloc(256);
  const n = console.read(buffer, 252);
  print(n < 0 ? "console-thief: cannot read: " + errorName(n) : "console-thief: took " + String.UTF8.decodeUnsafe(buffer, <usize>n).trim());
}
