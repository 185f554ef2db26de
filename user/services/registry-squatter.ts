// A compromised service for test/boot/init.test.ts: it tries, every 20 ms, to take the name
// "hello" (another service's) and "program-hello" (that service's door for programs) for a
// Receiver of its own, and says each outcome when it changes:
//   registry-squatter: register hello: STATUS
//   registry-squatter: register program-hello: STATUS
// A status of 0 means the attack worked: the next client of "hello" would speak to it.
// Config: `service squat registry-squatter memory=64`; slot 2 the registry, slot 3 its Memory.
import { print, errorName, sleep, Memory, Receiver, registryRegister, check, CAP_MOVE, RIGHT_RECEIVER_CALL } from "../lib";

const MEMORY: i32 = 3;
const names = ["hello", "program-hello"];
const said = new StaticArray<i32>(2);
said[0] = 1;
said[1] = 1;
const mine = new Receiver(check("registry-squatter", "create receiver", new Memory(MEMORY).createReceiver()));
for (;;) {
  for (let i = 0; i < names.length; i++) {
    const call = check("registry-squatter", "mint", mine.mint(0, RIGHT_RECEIVER_CALL));
    const status = registryRegister(names[i], <u32>call | CAP_MOVE);
    if (status == said[i]) continue;
    said[i] = status;
    print("registry-squatter: register " + names[i] + ": " + (status >= 0 ? "0" : errorName(status)));
  }
  sleep(20_000_000);
}
