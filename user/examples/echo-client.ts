// The client of echo-demo: calls the server through slot 2 (a call capability) with messages of
// 1 to CALLS words, checks each echo, then asks which badge the server sees it as. Exits 0 when
// every echo matched. The calls build their messages in place: no arrays, as a hot path would.
import { print, eprint, errorName, exit, msgBegin, msgAddWord, msgInvoke, msgLabel, msgWord, msgWordCount, capKind, KIND_RECEIVER } from "../lib";

const ECHO: u32 = 1;
const WHO: u32 = 2;
const OK: u32 = 0;

const SERVER: i32 = 2;
const CALLS: i32 = 8;

function word(call: i32, i: i32): u32 {
  return (<u32>call << 16) ^ (<u32>i * 0x9e3779b1);
}

if (capKind(SERVER) != <i32>KIND_RECEIVER) {
  eprint("echo-client: slot 2 is not a call capability (start me from echo-demo)");
  exit(2);
}

let failures = 0;
for (let call = 0; call < CALLS; call++) {
  const count = call + 1;
  msgBegin(ECHO);
  for (let i = 0; i < count; i++) msgAddWord(word(call, i));
  const status = msgInvoke(SERVER);
  if (status < 0) {
    eprint("echo-client: call " + call.toString() + ": " + errorName(status));
    exit(1);
  }
  let same = msgLabel() == OK && msgWordCount() == count;
  for (let i = 0; same && i < count; i++) same = msgWord(i) == word(call, i);
  if (!same) failures++;
  print("echo-client: call " + call.toString() + ": " + count.toString() + " words " + (same ? "echoed" : "WRONG"));
}

msgBegin(WHO);
const who = msgInvoke(SERVER);
if (who < 0 || msgLabel() != OK) {
  eprint("echo-client: who: " + errorName(who));
  exit(1);
}
print("echo-client: the server sees me as badge " + msgWord(0).toString() + " (request " + msgWord(1).toString() + ")");

print("echo-client: " + (CALLS - failures).toString() + " of " + CALLS.toString() + " echoes matched");
exit(failures == 0 ? 0 : 1);
