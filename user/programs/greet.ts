// The README's example program: greets its first argument.
import { print, args, exit } from "../lib";

const argv = args();
print("hello, " + (argv.length > 1 ? argv[1] : "world"));
exit(0);
