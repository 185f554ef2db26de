// Greets, then lists its arguments (not the program name) one per line.
import { print, args, getpid } from "../lib";

print("hello from dogma pid " + getpid().toString());
const argv = args();
for (let i = 1; i < argv.length; i++) print(argv[i]);
