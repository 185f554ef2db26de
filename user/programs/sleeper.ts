// Sleeps the first argument in milliseconds (default 50), then prints "slept".
import { print, args, sleep } from "../lib";

const argv = args();
const ms = argv.length > 1 ? i64.parse(argv[1]) : 50;
sleep(ms * 1_000_000);
print("slept");
