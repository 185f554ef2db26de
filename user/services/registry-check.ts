// Exercises the registry's protocol from a client's side, including the edges a well-behaved
// client never reaches (raw requests with bad names, and messages contract Registry forbids, which
// the kernel refuses before the registry sees them), and prints one line per failed check and
// then "registry-check: ok" or "registry-check: FAILED". Config:
//   service check registry-check memory=64
// Slot 2 is the registry, slot 3 its Memory.
import {
  print, exit, errorName, Memory, Receiver, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgBadge,
  capDrop, registryRegister, registryLookup, registryList, registryStatus, SLOT_REGISTRY, REGISTRY_REGISTER,
  RIGHT_RECEIVER_SEND, E_INVALID_ARGUMENT, E_INVALID_CAP, E_QUOTA, E_TIMEOUT, E_CONTRACT, E_MISSING_RIGHT, contractRefusal,
  registryForPrograms, registryRegisterForServices, REGISTRY_LOOKUP,
} from "../lib";
import { Registry } from "../lib/contracts/registry";

const MEMORY: i32 = 3;
const TABLE_SIZE = 128;
let failures = 0;

function expect(what: string, got: i32, want: i32): void {
  if (got == want) return;
  failures++;
  print("registry-check: " + what + ": got " + errorName(got) + ", want " + errorName(want));
}

function fatal(what: string, status: i32): i32 {
  if (status < 0) {
    print("registry-check: " + what + ": " + errorName(status));
    exit(1);
  }
  return status;
}

/** Sends through what `name` looks up to (through `registry`); the badge the message arrives with at `receiver` (-1 if none). */
function arrivesAs(name: string, receiver: Receiver, registry: i32 = SLOT_REGISTRY): i32 {
  const cap = registryLookup(name, registry);
  if (cap < 0) return cap;
  msgBegin(7);
  const sent = msgInvoke(cap);
  capDrop(cap);
  if (sent < 0) return sent;
  return receiver.receive(0) < 0 ? -1 : <i32>msgBadge();
}

/** A REGISTER built by hand: `words` as the name, with `cap` unless it is 0 (twice with `twice`). The registry's status. */
function rawRegister(words: u32[], cap: i32, twice: bool = false): i32 {
  msgBegin(REGISTRY_REGISTER);
  for (let i = 0; i < words.length; i++) msgAddWord(words[i]);
  if (cap != 0) msgAddCap(<u32>cap);
  if (cap != 0 && twice) msgAddCap(<u32>cap);
  const status = msgInvoke(SLOT_REGISTRY);
  return status < 0 ? status : registryStatus(msgLabel());
}

const memory = new Memory(MEMORY);
const r1 = new Receiver(fatal("receiver", memory.createReceiver()));
const r2 = new Receiver(fatal("receiver", memory.createReceiver()));
const s1 = fatal("mint", r1.mint(1, RIGHT_RECEIVER_SEND));
const s2 = fatal("mint", r2.mint(2, RIGHT_RECEIVER_SEND));

// Register, look up, replace.
expect("register x", registryRegister("x", <u32>s1), 0);
expect("x reaches r1", arrivesAs("x", r1), 1);
expect("register x again", registryRegister("x", <u32>s2), 0);
expect("x reaches r2 now", arrivesAs("x", r2), 2);
expect("r1 gets nothing more", r1.receive(0), E_TIMEOUT);
expect("look up a name nobody registered", registryLookup("nope"), E_INVALID_CAP);

// Bad requests: the shapes contract Registry forbids never reach the registry (E_CONTRACT, from the
// kernel); a name of the right shape that is no name is the registry's to refuse.
expect("a name of no words", rawRegister([], s1), E_CONTRACT);
print("registry-check: refused: " + contractRefusal());
expect("an empty name", rawRegister([0], s1), E_INVALID_ARGUMENT);
expect("a zero inside the name", rawRegister([0x00410041], s1), E_INVALID_ARGUMENT);
const long = new Array<u32>(17).fill(0x41414141);
expect("a name of 68 bytes", rawRegister(long, s1), E_CONTRACT);
expect("64 bytes is fine", rawRegister(long.slice(0, 16), s1), 0);
expect("no capability", rawRegister([0x41], 0), E_CONTRACT);
const region = fatal("region", memory.createRegion(1));
expect("a Region owner", registryRegister("region", <u32>region), E_INVALID_ARGUMENT);
msgBegin(99);
expect("an unknown label", msgInvoke(SLOT_REGISTRY), E_CONTRACT);
print("registry-check: refused: " + contractRefusal());
// The registry would have taken these (it kept cap 0 of a REGISTER and dropped the rest, and read
// a LIST's word 0): refused, they never reach it, and nothing is registered.
expect("a name with two capabilities", rawRegister([0x6b61656c], s1, true), E_CONTRACT); // "leak"
expect("what was refused was never registered", registryLookup("leak"), E_INVALID_CAP);
msgBegin(Registry.List);
msgAddWord(0);
msgAddWord(0);
expect("a LIST of two words", msgInvoke(SLOT_REGISTRY), E_CONTRACT);

// A name whose capability was destroyed (its Memory went) is gone.
const child = new Memory(fatal("child memory", memory.createMemory(8)));
const r3 = new Receiver(fatal("receiver", child.createReceiver()));
expect("register gone", registryRegister("gone", <u32>fatal("mint", r3.mint(3, RIGHT_RECEIVER_SEND))), 0);
fatal("destroy", child.destroy());
expect("gone is gone", registryLookup("gone"), E_INVALID_CAP);

// Fill the table: x and the 64-byte name are in it.
for (let i = 2; i < TABLE_SIZE; i++) expect("register n" + i.toString(), registryRegister("n" + i.toString(), <u32>s1), 0);
expect("a full table", registryRegister("one-too-many", <u32>s1), E_QUOTA);
expect("replacing in a full table", registryRegister("n5", <u32>s2), 0);
expect("n5 reaches r2", arrivesAs("n5", r2), 2);

// LIST walks every name once, in order.
let listed = 0;
let first = "";
let index: u32 = 0;
do {
  const entry = registryList(index);
  fatal("list", entry.status);
  if (listed == 0) first = entry.name;
  listed++;
  index = entry.next;
} while (index != 0 && listed <= TABLE_SIZE);
expect("names listed", listed, TABLE_SIZE);
expect("x is listed first", first == "x" ? 0 : -1, 0);
expect("an index past the end", registryList(1000).name.length, 0);

// What a program's capability may do (FOR_PROGRAMS): look up and list, never register, never find
// a name for services only.
const programs = fatal("the programs' capability", registryForPrograms());
expect("a program registers", registryRegister("p", <u32>s1, programs), E_MISSING_RIGHT);
expect("a program finds x", arrivesAs("x", r2, programs), 2);
expect("n6 for services only, replaced in a full table", registryRegisterForServices("n6", <u32>s1), 0);
expect("a program looks up a name for services only", registryLookup("n6", programs), E_MISSING_RIGHT);
msgBegin(REGISTRY_LOOKUP);
msgAddWord(0);
const emptyLookup = msgInvoke(SLOT_REGISTRY);
expect("a LOOKUP of an empty name", emptyLookup < 0 ? emptyLookup : registryStatus(msgLabel()), E_INVALID_ARGUMENT);

print(failures == 0 ? "registry-check: ok" : "registry-check: FAILED");
exit(failures == 0 ? 0 : 1);
