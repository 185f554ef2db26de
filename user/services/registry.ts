// The service registry (docs/BOOT.md "The service registry"): maps names to capabilities, so
// that clients find the console, the disk and the file system. Init starts it first and gives it
// the receiving end of its Receiver at slot 2; everyone else calls it through a capability init
// minted from that Receiver. Since init keeps the Receiver, a restarted registry serves the same
// capabilities (with an empty table: services register again when they restart).
//
// REGISTER (1) name words, cap 0 -> 0 | E_INVALID_ARGUMENT (bad name, no capability, a Region
//              owner, which could not be copied out) | E_QUOTA (table full)
// LOOKUP   (2) name words        -> 0 with a copy as cap 0 | E_INVALID_CAP (not registered, or
//              what it named is gone) | E_INVALID_ARGUMENT (bad name)
// LIST     (3) index             -> the name at that index as words; label: the next index (0
//              after the last, and for an index past the end, with no words)
// Statuses go out as their magnitude (user/lib/registry.ts). The table is static and nothing
// here allocates per request, so it can serve for ever on the stub runtime.
import {
  eprint, exit, errorName, serve, Process, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgWord, msgWordCount,
  msgCap, msgCapCount, capDrop, capKind, KIND_RECEIVER, KIND_REGION, OP_CAP_INFO, RIGHT_REGION_OWNER,
  E_INVALID_ARGUMENT, E_INVALID_CAP, E_PEER_DEAD, E_QUOTA, REGISTRY_REGISTER, REGISTRY_LOOKUP, REGISTRY_LIST,
  REGISTRY_NAME_WORDS, registryLabel, MAX_CAPS,
} from "../lib";

const REQUESTS: i32 = 2;
const MAX_NAMES: i32 = 128;
const NAME_BYTES: i32 = REGISTRY_NAME_WORDS * 4;

// Entry i: its name as REGISTRY_NAME_WORDS zero-padded words, and the capability it names.
const names = new StaticArray<u32>(MAX_NAMES * REGISTRY_NAME_WORDS);
const caps = new StaticArray<i32>(MAX_NAMES);
let count: i32 = 0;

// The request being handled: its name (zero-padded) and the capabilities it brought, copied out
// of the message buffer before any invoke of ours overwrites it.
const key = new StaticArray<u32>(REGISTRY_NAME_WORDS);
const brought = new StaticArray<i32>(MAX_CAPS);
let broughtCount: i32 = 0;

/** Copies the request's name into `key`; false when it is not 1 to 64 bytes of zero-padded text. */
function readName(): bool {
  const n = msgWordCount();
  if (n < 1 || n > REGISTRY_NAME_WORDS) return false;
  for (let i = 0; i < REGISTRY_NAME_WORDS; i++) unchecked((key[i] = i < n ? msgWord(i) : 0));
  const bytes = changetype<usize>(key);
  let end = 0;
  while (end < NAME_BYTES && load<u8>(bytes + <usize>end) != 0) end++;
  if (end == 0) return false;
  for (let i = end; i < NAME_BYTES; i++) if (load<u8>(bytes + <usize>i) != 0) return false; // a zero inside
  return true;
}

function find(): i32 {
  for (let i = 0; i < count; i++) {
    let same = true;
    for (let w = 0; same && w < REGISTRY_NAME_WORDS; w++) same = unchecked(names[i * REGISTRY_NAME_WORDS + w]) == unchecked(key[w]);
    if (same) return i;
  }
  return -1;
}

function remove(i: i32): void {
  capDrop(unchecked(caps[i]));
  for (let j = i + 1; j < count; j++) {
    unchecked((caps[j - 1] = caps[j]));
    for (let w = 0; w < REGISTRY_NAME_WORDS; w++) unchecked((names[(j - 1) * REGISTRY_NAME_WORDS + w] = names[j * REGISTRY_NAME_WORDS + w]));
  }
  count--;
}

/** Drops what the request brought from index `from` on (we keep at most cap 0 of a REGISTER). */
function dropBrought(from: i32): void {
  for (let i = from; i < broughtCount; i++) capDrop(unchecked(brought[i]));
}

/** A Region owner capability cannot be copied, so a LOOKUP would give it away. */
function isRegionOwner(cap: i32): bool {
  msgBegin(OP_CAP_INFO);
  return msgInvoke(cap) >= 0 && msgWord(0) == KIND_REGION && (msgWord(1) & RIGHT_REGION_OWNER) != 0;
}

function answer(status: i32): u32 {
  msgBegin(registryLabel(status));
  return registryLabel(status);
}

function register(): u32 {
  if (!readName() || broughtCount == 0) {
    dropBrought(0);
    return answer(E_INVALID_ARGUMENT);
  }
  dropBrought(1);
  const cap = unchecked(brought[0]);
  if (isRegionOwner(cap)) {
    capDrop(cap);
    return answer(E_INVALID_ARGUMENT);
  }
  let i = find();
  if (i >= 0) {
    capDrop(unchecked(caps[i])); // registering again replaces (a restarted driver)
  } else {
    if (count == MAX_NAMES) {
      capDrop(cap);
      return answer(E_QUOTA);
    }
    i = count++;
    for (let w = 0; w < REGISTRY_NAME_WORDS; w++) unchecked((names[i * REGISTRY_NAME_WORDS + w] = key[w]));
  }
  unchecked((caps[i] = cap));
  return answer(0);
}

function lookup(): u32 {
  dropBrought(0);
  if (!readName()) return answer(E_INVALID_ARGUMENT);
  const i = find();
  if (i < 0) return answer(E_INVALID_CAP);
  // What a name pointed to may have been destroyed since (its Memory went with its driver).
  if (capKind(unchecked(caps[i])) == E_PEER_DEAD) {
    remove(i);
    return answer(E_INVALID_CAP);
  }
  msgBegin(0);
  msgAddCap(<u32>unchecked(caps[i])); // a copy: the entry keeps its own
  return 0;
}

function list(): u32 {
  dropBrought(0);
  const index = msgWord(0);
  if (msgWordCount() < 1 || index >= <u32>count) return answer(0);
  const at = <i32>index;
  const next: u32 = at + 1 < count ? index + 1 : 0;
  msgBegin(next);
  for (let w = 0; w < REGISTRY_NAME_WORDS; w++) {
    const word = unchecked(names[at * REGISTRY_NAME_WORDS + w]);
    if (word == 0) break; // zero padding: the name ended in the word before
    msgAddWord(word);
  }
  return next;
}

function handle(label: u32): u32 {
  broughtCount = min(msgCapCount(), MAX_CAPS);
  for (let i = 0; i < broughtCount; i++) unchecked((brought[i] = msgCap(i)));
  if (label == REGISTRY_REGISTER) return register();
  if (label == REGISTRY_LOOKUP) return lookup();
  if (label == REGISTRY_LIST) return list();
  dropBrought(0);
  return answer(E_INVALID_ARGUMENT);
}

if (capKind(REQUESTS) != <i32>KIND_RECEIVER) {
  eprint("registry: slot 2 is not a Receiver (init starts me with one)");
  exit(2);
}
// Capabilities in requests are installed only while listening; REGISTER needs them.
const listening = Process.self().listen(true);
if (listening < 0) {
  eprint("registry: cannot listen: " + errorName(listening));
  exit(1);
}
const status = serve(REQUESTS, handle);
eprint("registry: receiver gone: " + errorName(status));
exit(1);
