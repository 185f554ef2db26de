// Calls every `dogma` call once and prints "<call> <what it returned>" per line, statuses by
// name, so that tests can check the kernel's answers and the build can check every import.
import * as sys from "../lib/sys";
import {
  print, errorName, invoke, getpid, getppid, now, wallClock, sleep, yield_, yieldTo, random,
  imageBase, imageSize, exit,
} from "../lib";

const NO_SUCH_PID: i32 = 0x7fffffff;
const bytes = memory.data(16);

print("getpid " + getpid().toString());
print("getppid " + getppid().toString());
print("clock monotonic " + (now() >= 0 ? "ok" : errorName(<i32>now())));
// After 2020-01-01, as a wall clock must be.
print("clock wall " + (wallClock() > 1_577_836_800_000_000_000 ? "ok" : wallClock().toString()));
print("clock 7 " + errorName(<i32>sys.clock(7)));
print("random " + errorName(random(bytes, 16)));
print("invoke " + errorName(invoke(0, 1, [2, 3])));
print("invoke short " + errorName(sys.invoke(0, <i32>bytes, 8)));
print("invoke page-0 " + errorName(sys.invoke(0, 0, 20)));
yield_();
print("yield ok");
print("yield_to none " + errorName(yieldTo(NO_SUCH_PID)));
sleep(1000);
print("sleep ok");
print("image " + (imageBase() >= 0x80000000 ? "high" : "low") + " " + imageSize().toString());
print("arg_count " + sys.arg_count().toString());
exit(0);
