// An attacker of the timer driver's table of sleepers, for test/drivers/timer.test.ts.
//   -- hog: connects, says "timer-hog: sleeping", then sleeps for ever through the driver (and says
//           how that ended if it ever does);
//   -- late: reads a line from the console (the test types it once every hog sleeps), then sleeps
//           1 ms through the driver and says how that went.
// Config: service h1 timer-hog -- hog
import { print, errorName, exit, arg, read } from "../lib";
import { TimerClient } from "../lib/timer-client";

const timer = new TimerClient();
const role = arg(1);
const connected = timer.connect();
if (connected < 0) {
  print("timer-hog: connect: " + errorName(connected));
  exit(1);
}
if (role == "hog") {
  print("timer-hog: sleeping");
  const status = timer.sleep(0xffff_ffff_ffff_0000);
  print("timer-hog: the endless sleep ended: " + (status < 0 ? errorName(status) : "woken"));
  exit(0);
}
const line = new StaticArray<u8>(16);
read(changetype<usize>(line), line.length);
const status = timer.sleep(1_000_000);
print("timer-hog: the late sleeper's 1 ms sleep: " + (status < 0 ? errorName(status) : "woken"));
exit(0);
