// A tiny service that proves the registry end to end: it publishes a call capability to its own
// Receiver as "hello", then answers GREET (words: a name) with "hello, NAME" (as words). Config:
//   service hello hello-service memory=16
// Slot 2 is the registry, slot 3 its Memory (it needs one to create its Receiver).
import {
  print, eprint, errorName, exit, serve, Memory, Receiver, msgBegin, msgAddName, msgName, msgClearCaps,
  registryRegister, CAP_MOVE, RIGHT_RECEIVER_CALL,
} from "../lib";

export const GREET: u32 = 1;
const MEMORY: i32 = 3;
const NAME = "hello";

function check(what: string, result: i32): i32 {
  if (result < 0) {
    eprint("hello-service: " + what + ": " + errorName(result));
    exit(1);
  }
  return result;
}

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

const requests = new Receiver(check("create receiver", new Memory(MEMORY).createReceiver()));
const callCap = check("mint", requests.mint(0, RIGHT_RECEIVER_CALL));
check("register " + NAME, registryRegister(NAME, <u32>callCap | CAP_MOVE));
print("hello-service: registered \"" + NAME + "\"");
const status = serve(requests.cap, handle);
eprint("hello-service: receiver gone: " + errorName(status));
exit(1);
