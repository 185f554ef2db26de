// Watches a child end and reports how:
//   dogma run --module build/user/fault-null.wasm build/user/monitor.wasm
// The child (slot 3, any program; fault-null reads address 0 and faults) is monitored through a
// Receiver of ours: the kernel sends MSG_PROCESS_ENDED there when it ends. PROCESS_STATE then
// tells the fault's kind and address. Exits 0 when the report arrived and agrees with the state.
import {
  print, eprint, errorName, exit, Memory, Process, Receiver, msgLabel, msgWord, msgBadge, stateName, faultKindName,
  capKind, KIND_IMAGE, CAP_MOVE, RIGHT_RECEIVER_SEND, MSG_PROCESS_ENDED, STATE_EXITED, STATE_FAULTED, check,
} from "../lib";

const MEMORY: i32 = 2;
const CHILD_IMAGE: i32 = 3;
const BADGE: u32 = 0xc41d; // tells our Receiver's messages apart, were there other senders

if (capKind(CHILD_IMAGE) != <i32>KIND_IMAGE) {
  eprint("monitor: slot 3 must be the child's Image (--module, before the program)");
  exit(2);
}

const memory = new Memory(MEMORY);
const endings = new Receiver(check("monitor", "create receiver", memory.createReceiver()));
const child = new Process(check("monitor", "create child", memory.createProcess(CHILD_IMAGE)));
// The kernel keeps the send capability and uses it once, when the child ends.
check("monitor", "monitor child", child.monitor(<u32>check("monitor", "mint", endings.mint(BADGE, RIGHT_RECEIVER_SEND)) | CAP_MOVE));
check("monitor", "start child", child.start());
print("monitor: started child pid " + child.state().pid.toString());

check("monitor", "receive", endings.receive());
if (msgLabel() != MSG_PROCESS_ENDED || msgBadge() != BADGE) {
  eprint("monitor: unexpected message label " + msgLabel().toString() + " badge " + msgBadge().toString());
  exit(1);
}
const pid = msgWord(0);
const state = msgWord(1);
const exitCode = <i32>msgWord(2);
print("monitor: PROCESS_ENDED pid " + pid.toString() + ", " + stateName(state) + ", exit code " + exitCode.toString());

// The Process capability still answers PROCESS_STATE after the end: that is where the fault is.
const s = child.state();
check("monitor", "state", s.status);
if (s.state == STATE_FAULTED) {
  print("monitor: fault " + faultKindName(s.faultKind) + " at 0x" + s.faultAddress.toString(16));
}
const agrees = s.pid == pid && s.state == state && s.exitCode == exitCode && (state == STATE_EXITED || state == STATE_FAULTED);
print(agrees ? "monitor: ok" : "monitor: FAILED: PROCESS_STATE says pid " + s.pid.toString() + ", " + stateName(s.state));
exit(agrees ? 0 : 1);
