// The counter of server-pool: the kernel serves it (Process.serveThroughKernel), so between two
// calls it has no frames on any stack and its creator may clone it. Its state is a global count
// and a string on the heap that grows by one character a call: a clone must carry both, and the
// runtime's own heap bookkeeping with them. Slot 2 is the Receiver its creator gave it.
import { eprint, errorName, exit, getpid, Process, msgBegin, msgAddWord, msgInvoke, msgReply, capKind, KIND_RECEIVER } from "../lib";

const REQUESTS: i32 = 2;

let count: u32 = 0;
let history = "";

/** Called by the kernel for each message (status: the receive's); 0 to go on. */
export function handle(status: i32): i32 {
  if (status < 0) return 1;
  count++;
  history += "+";
  const reply = msgReply();
  msgBegin(0);
  msgAddWord(<u32>getpid());
  msgAddWord(count);
  msgAddWord(<u32>history.length);
  msgInvoke(reply);
  return 0;
}

if (capKind(REQUESTS) != <i32>KIND_RECEIVER) {
  eprint("counter-server: slot 2 is not a Receiver (start me from server-pool)");
  exit(2);
}
const status = Process.self().serveThroughKernel("handle", REQUESTS);
if (status < 0) {
  eprint("counter-server: PROCESS_SERVE: " + errorName(status));
  exit(1);
}
// The top level ends here: from now on the kernel receives for this process and calls handle.
