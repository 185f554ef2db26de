// Clones a server that has run: a pool of two from one warmed-up counter.
//   dogma run --module build/user/counter-server.wasm build/user/server-pool.wasm
// Slot 2 is a Memory, slot 3 the counter's Image. The counter answers each call with its pid, its
// count and the length of a string it grows. After three calls the pool clones it (PROCESS_CLONE:
// it is quiescent between calls, the kernel serving it); the copy shares its pages copy-on-write,
// has its globals, and serves the same Receiver. Each then goes on from count 3 on its own.
import {
  print, eprint, errorName, exit, yield_, Memory, Process, Receiver, msgBegin, msgInvoke, msgWord, capKind,
  KIND_IMAGE, CAP_MOVE, RIGHT_RECEIVER_CALL, E_NOT_READY, check,
} from "../lib";

const MEMORY: i32 = 2;
const IMAGE: i32 = 3;

if (capKind(IMAGE) != <i32>KIND_IMAGE) {
  eprint("server-pool: slot 3 must be the counter's Image (--module, before the program)");
  exit(2);
}

const memory = new Memory(MEMORY);
const requests = new Receiver(check("server-pool", "create receiver", memory.createReceiver()));
const counter = check("server-pool", "mint call capability", requests.mint(0, RIGHT_RECEIVER_CALL));
const server = new Process(check("server-pool", "create server", memory.createProcess(IMAGE)));
check("server-pool", "give server its receiver", server.give(<u32>requests.cap | CAP_MOVE)); // its slot 2
check("server-pool", "start server", server.start());

/** One call: the answer's pid, count and history length, printed. */
function call(n: i32): u32[] {
  msgBegin(1);
  check("server-pool", "call " + n.toString(), msgInvoke(counter));
  const answer = [msgWord(0), msgWord(1), msgWord(2)];
  print("server-pool: call " + n.toString() + ": pid " + answer[0].toString() + " count " + answer[1].toString() + " history " + answer[2].toString());
  return answer;
}

let wrong = 0;
for (let n = 1; n <= 3; n++) if (call(n)[1] != <u32>n) wrong++;

// The reply switched straight back here: let the server get back to waiting, where it is quiescent.
let copyCap = E_NOT_READY;
for (let tries = 0; tries < 10 && copyCap == E_NOT_READY; tries++) {
  yield_();
  copyCap = server.clone(MEMORY);
}
const copy = new Process(check("server-pool", "clone the server", copyCap));
check("server-pool", "start the copy", copy.start());
yield_(); // the copy starts in its serve loop and waits on the same Receiver
print("server-pool: cloned pid " + server.state().pid.toString() + " as pid " + copy.state().pid.toString());

// Each of the two goes on from count 3, and its history from 3 characters, on its own.
let nextOf0: u32 = 4;
let nextOf1: u32 = 4;
const pid0 = <u32>server.state().pid;
const pid1 = <u32>copy.state().pid;
let seen0 = false;
let seen1 = false;
for (let n = 4; n <= 9; n++) {
  const answer = call(n);
  if (answer[0] == pid0 && answer[1] == nextOf0 && answer[2] == nextOf0) {
    nextOf0++;
    seen0 = true;
  } else if (answer[0] == pid1 && answer[1] == nextOf1 && answer[2] == nextOf1) {
    nextOf1++;
    seen1 = true;
  } else wrong++;
}
check("server-pool", "kill server", server.kill());
check("server-pool", "kill copy", copy.kill());
const ok = wrong == 0 && seen0 && seen1;
print(ok ? "server-pool: both went on from where the original was: ok" : "server-pool: FAILED");
exit(ok ? 0 : 1);
