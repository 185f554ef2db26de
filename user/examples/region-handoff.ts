// Hands a Region to a child by moving its owner capability in a message:
//   dogma run --module build/user/region-child.wasm build/user/region-handoff.wasm
// We fill the Region with a pattern, keep a read-only view, and send the owner capability to the
// child. From then on the range is read-only for us (a write would fault) and REGION_INFO says we
// are not the owner; the child checks the pattern and writes its answer, which we read through the
// view. Exits 0 when all of that held.
import {
  print, eprint, errorName, exit, Memory, Process, Receiver, Region, capKind, msgBegin, msgAddWord, msgAddCap,
  msgInvoke, stateName, KIND_IMAGE, CAP_MOVE, RIGHT_RECEIVER_SEND, E_INVALID_CAP, STATE_EXITED, check,
} from "../lib";

const MEMORY: i32 = 2;
const CHILD_IMAGE: i32 = 3;
const PAGES: u32 = 4;
const WORDS: u32 = PAGES * 1024;
const HANDOFF: u32 = 1; // words: address, pages; capability: the Region's owner

// What we write, and what the child writes back over it (the same functions are in region-child.ts).
function pattern(i: u32): u32 {
  return 0xd06a0000 ^ (i * 0x9e3779b1);
}
function answer(i: u32): u32 {
  return ~pattern(i);
}

function fail(why: string): void {
  eprint("region-handoff: FAILED: " + why);
  exit(1);
}

if (capKind(CHILD_IMAGE) != <i32>KIND_IMAGE) fail("slot 3 must be the child's Image (--module, before the program)");

const memory = new Memory(MEMORY);
const region = new Region(check("region-handoff", "create region", memory.createRegion(PAGES)));
const before = region.info();
check("region-handoff", "region info", before.status);
const address = <usize>before.address;
for (let i: u32 = 0; i < WORDS; i++) store<u32>(address + (<usize>i << 2), pattern(i));
print("region-handoff: wrote " + WORDS.toString() + " words at 0x" + before.address.toString(16) + ", owner " + (before.owner ? "yes" : "no"));

// A view keeps the range readable here after the owner capability has gone.
const view = new Region(check("region-handoff", "view", region.view()));

// The child receives on a Receiver we give it; it must listen, or the capability in our message
// would be disposed on arrival. We set its flag before it starts, so there is no race.
const inbox = new Receiver(check("region-handoff", "create receiver", memory.createReceiver()));
const toChild = check("region-handoff", "mint send capability", inbox.mint(0, RIGHT_RECEIVER_SEND));
const child = new Process(check("region-handoff", "create child", memory.createProcess(CHILD_IMAGE)));
check("region-handoff", "give child its receiver", child.give(<u32>inbox.cap | CAP_MOVE)); // child's slot 2
check("region-handoff", "make child listen", child.listen(true));
check("region-handoff", "start child", child.start());

msgBegin(HANDOFF);
msgAddWord(before.address);
msgAddWord(PAGES);
msgAddCap(<u32>region.cap | CAP_MOVE); // an owner capability always moves; the flag says so here
check("region-handoff", "send region", msgInvoke(toChild));

// The owner capability has left our table, and with it the right to write.
if (capKind(region.cap) != E_INVALID_CAP) fail("the owner capability is still in slot " + region.cap.toString());
const after = view.info();
check("region-handoff", "view info", after.status);
if (after.owner) fail("REGION_INFO still says we own it");
print("region-handoff: sent; slot " + region.cap.toString() + " is empty, owner " + (after.owner ? "yes" : "no") + ", view at 0x" + after.address.toString(16));

const end = child.wait();
check("region-handoff", "wait for child", end.status);
print("region-handoff: child " + stateName(end.state) + " with code " + end.exitCode.toString());
if (end.state != STATE_EXITED || end.exitCode != 0) fail("the child did not find the pattern");

// The child's owner capability went with it (which frees the Region); a view keeps the last contents.
let answered: u32 = 0;
for (let i: u32 = 0; i < WORDS; i++) if (load<u32>(address + (<usize>i << 2)) == answer(i)) answered++;
print("region-handoff: " + answered.toString() + " of " + WORDS.toString() + " words hold the child's answer");
if (answered != WORDS) fail("the child's answer is not there");
print("region-handoff: ok");
