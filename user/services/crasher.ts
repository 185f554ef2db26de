// A service that faults a moment after it starts (an unreachable trap), to exercise init's
// restarts, backoff and giving up. Config: service crasher crasher
import { print, sleep, getpid } from "../lib";

print("crasher: pid " + getpid().toString() + " running");
sleep(5_000_000);
unreachable();
