// false: does nothing, and fails (status 1). The shell has it built in; this is for programs
// that run programs.
import { args, print, exit } from "../lib";

const argv = args();
if (argv.length == 2 && argv[1] == "--help") {
  print("usage: false\nDoes nothing, and fails (status 1).");
  exit(0);
}
exit(1);
