// The echo server of echo-demo: answers ECHO with the words it was sent, WHO with the badge of
// the capability the call came through. Its slot 2 is the Receiver its creator gave it.
import { print, eprint, errorName, exit, serve, msgBegin, msgAddWord, msgBadge, msgCapCount, msgClearCaps, capKind, KIND_RECEIVER } from "../lib";

// The protocol, shared with echo-client.ts (labels are the client's and server's own business).
const ECHO: u32 = 1;
const WHO: u32 = 2;
const OK: u32 = 0;
const UNKNOWN: u32 = 1;

const REQUESTS: i32 = 2;

let served: u32 = 0;

function handle(label: u32): u32 {
  served++;
  if (msgCapCount() != 0) msgClearCaps(); // never hand capabilities back by accident
  if (label == ECHO) return OK; // the request's words are still in the buffer: they go back as they came
  if (label == WHO) {
    const badge = msgBadge(); // read before msgBegin clears the header
    msgBegin(OK);
    msgAddWord(badge);
    msgAddWord(served);
    return OK;
  }
  msgBegin(UNKNOWN);
  return UNKNOWN;
}

if (capKind(REQUESTS) != <i32>KIND_RECEIVER) {
  eprint("echo-server: slot 2 is not a Receiver (start me from echo-demo)");
  exit(2);
}
print("echo-server: serving");
const status = serve(REQUESTS, handle);
// Only reached if the Receiver goes away; normally echo-demo kills the server first.
eprint("echo-server: receiver gone: " + errorName(status));
exit(1);
