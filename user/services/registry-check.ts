// Exercises the registry's protocol from a client's side, including the edges a well-behaved
// client never reaches (raw requests with bad names), and prints one line per failed check and
// then "registry-check: ok" or "registry-check: FAILED". Config:
//   service check registry-check memory=64
// Slot 2 is the registry, slot 3 its Memory.
import {
  print, exit, errorName, Memory, Receiver, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgBadge,
  capDrop, registryRegister, registryLookup, registryList, registryStatus, SLOT_REGISTRY, REGISTRY_REGISTER,
  RIGHT_RECEIVER_SEND, E_INVALID_ARGUMENT, E_INVALID_CAP, E_QUOTA, E_TIMEOUT,
} from "../lib";

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

/** Sends through what `name` looks up to; the badge the message arrives with at `receiver` (-1 if none). */
function arrivesAs(name: string, receiver: Receiver): i32 {
  const cap = registryLookup(name);
  if (cap < 0) return cap;
  msgBegin(7);
  const sent = msgInvoke(cap);
  capDrop(cap);
  if (sent < 0) return sent;
  return receiver.receive(0) < 0 ? -1 : <i32>msgBadge();
}

/** A REGISTER built by hand: `words` as the name, with `cap` unless it is 0. The registry's status. */
function rawRegister(words: u32[], cap: i32): i32 {
  msgBegin(REGISTRY_REGISTER);
  for (let i = 0; i < words.length; i++) msgAddWord(words[i]);
  if (cap != 0) msgAddCap(<u32>cap);
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

// Bad requests.
expect("a name of no words", rawRegister([], s1), E_INVALID_ARGUMENT);
expect("an empty name", rawRegister([0], s1), E_INVALID_ARGUMENT);
expect("a zero inside the name", rawRegister([0x00410041], s1), E_INVALID_ARGUMENT);
const long = new Array<u32>(17).fill(0x41414141);
expect("a name of 68 bytes", rawRegister(long, s1), E_INVALID_ARGUMENT);
expect("64 bytes is fine", rawRegister(long.slice(0, 16), s1), 0);
expect("no capability", rawRegister([0x41], 0), E_INVALID_ARGUMENT);
const region = fatal("region", memory.createRegion(1));
expect("a Region owner", registryRegister("region", <u32>region), E_INVALID_ARGUMENT);
msgBegin(99);
fatal("unknown label", msgInvoke(SLOT_REGISTRY));
expect("an unknown label", registryStatus(msgLabel()), E_INVALID_ARGUMENT);

// A name whose capability was destroyed (its Memory went) is gone.
const child = new Memory(fatal("child memory", memory.createMemory(8)));
const r3 = new Receiver(fatal("receiver", child.createReceiver()));
expect("register gone", registryRegister("gone", <u32>fatal("mint", r3.mint(3, RIGHT_RECEIVER_SEND))), 0);
fatal("destroy", child.destroy());
expect("gone is gone", registryLookup("gone"), E_INVALID_CAP);
// Its name stays its owner's (ours): we may register it again.
expect("register gone again", registryRegister("gone", <u32>s1), 0);
expect("gone reaches r1", arrivesAs("gone", r1), 1);

// Fill the table: x, the 64-byte name and gone are in it.
for (let i = 3; i < TABLE_SIZE; i++) expect("register n" + i.toString(), registryRegister("n" + i.toString(), <u32>s1), 0);
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

print(failures == 0 ? "registry-check: ok" : "registry-check: FAILED");
exit(failures == 0 ? 0 : 1);
