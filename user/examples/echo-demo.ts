// Starts an echo server and a client and wires them together with capabilities:
//   dogma run --module build/user/echo-server.wasm --module build/user/echo-client.wasm build/user/echo-demo.wasm
// Slot 2 is a Memory, slot 3 the server's Image, slot 4 the client's. The server gets the
// Receiver, the client a call capability to it with a badge; neither can reach anything else.
// Exits 0 when the client ended with 0.
import {
  print, eprint, errorName, exit, Memory, Process, Receiver, msgLabel, msgWord, msgBadge, stateName, capKind,
  KIND_IMAGE, CAP_MOVE, RIGHT_RECEIVER_CALL, RIGHT_RECEIVER_SEND, MSG_PROCESS_ENDED, STATE_EXITED, check,
} from "../lib";

const MEMORY: i32 = 2;
const SERVER_IMAGE: i32 = 3;
const CLIENT_IMAGE: i32 = 4;
const CLIENT_BADGE: u32 = 42; // the server sees this on every call from the client
const MONITOR_BADGE: u32 = 7;

// Options go before the program: `dogma run --module A --module B PROGRAM`.
if (capKind(SERVER_IMAGE) != <i32>KIND_IMAGE || capKind(CLIENT_IMAGE) != <i32>KIND_IMAGE) {
  eprint("echo-demo: slots 3 and 4 must be the server's and client's Images (--module, before the program)");
  exit(2);
}

const memory = new Memory(MEMORY);

// The server's Receiver. The call capability is minted before the Receiver is handed over.
const requests = new Receiver(check("echo-demo", "create receiver", memory.createReceiver()));
const callCap = check("echo-demo", "mint call capability", requests.mint(CLIENT_BADGE, RIGHT_RECEIVER_CALL));

const server = new Process(check("echo-demo", "create server", memory.createProcess(SERVER_IMAGE)));
check("echo-demo", "give server its receiver", server.give(<u32>requests.cap | CAP_MOVE)); // server's slot 2

const client = new Process(check("echo-demo", "create client", memory.createProcess(CLIENT_IMAGE)));
check("echo-demo", "give client its call capability", client.give(<u32>callCap | CAP_MOVE)); // client's slot 2

// The kernel tells us when the client ends, through a send capability to a Receiver of ours.
const endings = new Receiver(check("echo-demo", "create monitor receiver", memory.createReceiver()));
const endingsSend = check("echo-demo", "mint monitor capability", endings.mint(MONITOR_BADGE, RIGHT_RECEIVER_SEND));
check("echo-demo", "monitor client", client.monitor(<u32>endingsSend | CAP_MOVE));

print("echo-demo: server pid " + server.state().pid.toString() + ", client pid " + client.state().pid.toString());
check("echo-demo", "start server", server.start());
check("echo-demo", "start client", client.start());

check("echo-demo", "receive client's end", endings.receive());
if (msgLabel() != MSG_PROCESS_ENDED || msgBadge() != MONITOR_BADGE) {
  eprint("echo-demo: unexpected message " + msgLabel().toString() + " badge " + msgBadge().toString());
  exit(1);
}
const clientPid = msgWord(0);
const clientState = msgWord(1);
const clientCode = <i32>msgWord(2);
print("echo-demo: client pid " + clientPid.toString() + " ended: " + stateName(clientState) + ", exit code " + clientCode.toString());

// The server would wait for requests for ever: end it, and see that it did.
check("echo-demo", "kill server", server.kill());
const serverEnd = server.wait();
check("echo-demo", "wait for server", serverEnd.status);
print("echo-demo: server " + stateName(serverEnd.state) + " with code " + serverEnd.exitCode.toString() + " (killed)");

const ok = clientState == STATE_EXITED && clientCode == 0;
print(ok ? "echo-demo: ok" : "echo-demo: FAILED");
exit(ok ? 0 : 1);
