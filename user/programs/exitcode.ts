// Exits with the integer given as first argument (0 without one).
import { args, exit } from "../lib";

const argv = args();
exit(argv.length > 1 ? i32.parse(argv[1]) : 0);
