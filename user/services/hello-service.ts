// A tiny service that proves the registry end to end: it publishes a call capability to its own
// Receiver as "hello", then answers GREET (words: a name) with "hello, NAME" (as words). Config:
//   service hello hello-service memory=16
// Slot 2 is the registry, slot 3 its Memory (it needs one to create its Receiver).
import {
  print, eprint, errorName, exit, serve, Memory, Receiver, msgBegin, msgAddName, msgName, msgClearCaps,
  registryRegister, CAP_MOVE, RIGHT_RECEIVER_CALL, check,
} from "../lib";

export const GREET: u32 = 1;
const MEMORY: i32 = 3;
const NAME = "hello";

function handle(label: u32): u32 {
  msgClearCaps();
  if (label != GREET) {
    msgBegin(1);
    return 1;
  }
  const who = msgName();
  msgBegin(0);
  if (!msgAddName("hello, " + who)) msgAddName("hello"); // a long name does not fit 64 bytes
  return 0;
}

const requests = new Receiver(check("hello-service", "create receiver", new Memory(MEMORY).createReceiver()));
const callCap = check("hello-service", "mint", requests.mint(0, RIGHT_RECEIVER_CALL));
check("hello-service", "register " + NAME, registryRegister(NAME, <u32>callCap | CAP_MOVE));
print("hello-service: registered \"" + NAME + "\"");
const status = serve(requests.cap, handle);
eprint("hello-service: receiver gone: " + errorName(status));
exit(1);
