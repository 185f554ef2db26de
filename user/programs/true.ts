// true: does nothing, successfully (status 0). The shell has it built in; this is for programs
// that run programs (and `command true`).
import { args, print, exit } from "../lib";

const argv = args();
if (argv.length == 2 && argv[1] == "--help") print("usage: true\nDoes nothing, successfully (status 0).");
exit(0);
