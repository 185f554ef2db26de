// The service registry (docs/BOOT.md "The service registry"): maps names to capabilities, so
// that clients find the console, the disk and the file system. Init starts it first and gives it
// the receiving end of its Receiver at slot 2; everyone else calls it through a capability init
// minted from that Receiver. Its table lives in what init keeps for it across its restarts
// (slots 3 to 5: a Cappage for the capabilities, two Pages for the names, mapped at their global
// addresses), so a restarted registry serves the same Receiver with the same names: nobody need
// register again. Without them (a registry init did not start) the table is its own, and lost
// with it.
//
// Protocol: contract Registry (contracts/registry.contract), which the kernel checks on every
// call and every answer. init gives the Receiver the contract before it mints anything from it,
// so the contract outlives the registry's restarts as the Receiver does; a Receiver nobody gave
// one gets it here, before anything is minted from it. What the contract leaves to the server:
// REGISTER (1) name words, cap 0 -> 0 | E_INVALID_ARGUMENT (bad name, a Region owner, which
//              could not be copied out) | E_QUOTA (table full)
// LOOKUP   (2) name words        -> 0 with a copy as cap 0 | E_INVALID_CAP (not registered, or
//              what it named is gone) | E_INVALID_ARGUMENT (bad name)
// LIST     (3) index             -> word 0 the index after the name's entry (0 after the last),
//              then the name at the first used entry from that index (none past the end)
// FOR_PROGRAMS (4)                -> 0 with a call capability to the registry whose badge has
//              REGISTRY_PROGRAMS_BADGE: what procman gives its jobs at slot 2
// REGISTER_FOR_SERVICES (5)       -> as REGISTER, for a name a program's LOOKUP does not get:
//              it gets "program-NAME" when that is registered (the log's door for programs), else
//              E_MISSING_RIGHT (a driver's name, whose clients are services)
// A call through a program's capability (badge REGISTRY_PROGRAMS_BADGE) may LOOKUP and LIST only:
// a program registering over "fs" or "log" would be the next client's file system or log, and one
// finding "block" would read and write the disk under the file system.
// An entry is written capability first, name last, and removed name first, so a registry killed
// in the middle leaves every entry whole or free. Statuses go out as their magnitude
// (user/lib/registry.ts). Nothing here allocates per request, so it can serve for ever.
import {
  eprint, exit, errorName, serve, Process, Cappage, Page, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgWord,
  msgWordCount, msgCap, msgCapCount, capDrop, capKind, capCopy, KIND_RECEIVER, KIND_REGION, KIND_CAPPAGE, KIND_PAGE, OP_CAP_INFO,
  RIGHT_REGION_OWNER, CAP_MOVE, E_INVALID_ARGUMENT, E_INVALID_CAP, E_PEER_DEAD, E_QUOTA, REGISTRY_REGISTER,
  REGISTRY_LOOKUP, REGISTRY_LIST, REGISTRY_NAME_WORDS, registryLabel, MAX_CAPS, REGISTRY_FOR_PROGRAMS,
  REGISTRY_REGISTER_FOR_SERVICES, REGISTRY_PROGRAMS_BADGE, E_MISSING_RIGHT, RIGHT_RECEIVER_CALL, msgBadge, Receiver,
  E_QUEUE_FULL, E_NOT_READY,
} from "../lib";
import { Registry, registryAttach } from "../lib/contracts/registry";

const REQUESTS: i32 = 2;
/** What init keeps for it (docs/BOOT.md): the Cappage of capabilities, and the two Pages of names. */
const KEPT_CAPS: i32 = 3;
const KEPT_NAMES: i32 = 4;
const MAX_NAMES: i32 = 128;
const NAME_BYTES: i32 = REGISTRY_NAME_WORDS * 4;
const NAMES_PER_PAGE: i32 = 4096 / NAME_BYTES;

// Entry i: its name as REGISTRY_NAME_WORDS zero-padded words (free when its first byte is 0),
// and the capability it names (slot i of the kept Cappage, or of `ownCaps`).
const pageOf = new StaticArray<usize>(2);
const ownNames: usize = memory.data(MAX_NAMES * NAME_BYTES, 8);
const ownCaps = new StaticArray<i32>(MAX_NAMES);
let kept: Cappage | null = null;
/**
 * Which entries are for services only. In the kept table, entry i's mark is slot MAX_NAMES + i
 * of the Cappage (a rightless copy of its capability), so that it outlives a restart as the entry
 * does; in the registry's own table, a flag here.
 */
const ownServicesOnly = new StaticArray<bool>(MAX_NAMES);

// The request being handled: its name (zero-padded) and the capabilities it brought, copied out
// of the message buffer before any invoke of ours overwrites it.
const key = new StaticArray<u32>(REGISTRY_NAME_WORDS);
const brought = new StaticArray<i32>(MAX_CAPS);
let broughtCount: i32 = 0;
let badge: u32 = 0;
/** "program-" is two whole words: a program's door to a service for services only is "program-NAME". */
const PROGRAM_PREFIX_WORDS: i32 = 2;

@inline function nameAt(i: i32): usize {
  return unchecked(pageOf[i / NAMES_PER_PAGE]) + <usize>((i % NAMES_PER_PAGE) * NAME_BYTES);
}

@inline function used(i: i32): bool {
  return load<u8>(nameAt(i)) != 0;
}

/** A copy of entry i's capability, here (or 0 when there is none). */
function capOf(i: i32): i32 {
  if (kept == null) return unchecked(ownCaps[i]);
  const got = kept!.get(<u32>i);
  // A contract endpoint whose service's queue has no room for another copy: the entry stays.
  if (got == E_QUEUE_FULL) return E_QUEUE_FULL;
  return got > 0 ? got : 0;
}

/** Entry i names `cap` now (moved in); a capability it named before goes. */
function setCap(i: i32, cap: i32): i32 {
  if (kept == null) {
    if (unchecked(ownCaps[i]) != 0) capDrop(unchecked(ownCaps[i]));
    unchecked((ownCaps[i] = cap));
    return 0;
  }
  return kept!.put(<u32>i, <u32>cap | CAP_MOVE);
}

function clearCap(i: i32): void {
  if (kept == null) {
    if (unchecked(ownCaps[i]) != 0) capDrop(unchecked(ownCaps[i]));
    unchecked((ownCaps[i] = 0));
  } else kept!.clear(<u32>i);
  setServicesOnly(i, 0);
}

/** Marks entry i as for services only (`cap`: its capability, of which the mark is a rightless copy) or not (0). 0 or a status. */
function setServicesOnly(i: i32, cap: i32): i32 {
  if (kept == null) {
    unchecked((ownServicesOnly[i] = cap != 0));
    return 0;
  }
  if (cap == 0) {
    kept!.clear(<u32>(MAX_NAMES + i));
    return 0;
  }
  const mark = capCopy(cap, 0);
  return mark < 0 ? mark : kept!.put(<u32>(MAX_NAMES + i), <u32>mark | CAP_MOVE);
}

function servicesOnly(i: i32): bool {
  if (kept == null) return unchecked(ownServicesOnly[i]);
  const mark = kept!.get(<u32>(MAX_NAMES + i));
  if (mark <= 0) return false;
  capDrop(mark);
  return true;
}

/** Whether the request came through a program's capability (procman's jobs'). */
@inline function fromProgram(): bool {
  return (badge & REGISTRY_PROGRAMS_BADGE) != 0;
}

/** Copies the request's name into `key`; false when it is not 1 to 64 bytes of zero-padded text. */
function readName(): bool {
  const n = msgWordCount();
  if (n < 1 || n > REGISTRY_NAME_WORDS) return false;
  for (let i = 0; i < REGISTRY_NAME_WORDS; i++) unchecked((key[i] = i < n ? msgWord(i) : 0));
  return validName(changetype<usize>(key));
}

/** Whether the NAME_BYTES at `bytes` are 1 to 64 bytes of text, zero-padded. */
function validName(bytes: usize): bool {
  let end = 0;
  while (end < NAME_BYTES && load<u8>(bytes + <usize>end) != 0) end++;
  if (end == 0) return false;
  for (let i = end; i < NAME_BYTES; i++) if (load<u8>(bytes + <usize>i) != 0) return false; // a zero inside
  return true;
}

function find(): i32 {
  for (let i = 0; i < MAX_NAMES; i++) {
    if (!used(i)) continue;
    const at = nameAt(i);
    let same = true;
    for (let w = 0; same && w < REGISTRY_NAME_WORDS; w++) same = load<u32>(at + <usize>(w << 2)) == unchecked(key[w]);
    if (same) return i;
  }
  return -1;
}

function remove(i: i32): void {
  store<u8>(nameAt(i), 0); // free from here on, whatever happens next
  memory.fill(nameAt(i), 0, NAME_BYTES);
  clearCap(i);
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

function register(forServices: bool): u32 {
  if (fromProgram()) {
    dropBrought(0);
    return answer(E_MISSING_RIGHT);
  }
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
  if (i < 0) {
    for (let j = 0; j < MAX_NAMES && i < 0; j++) if (!used(j)) i = j;
    if (i < 0) {
      capDrop(cap);
      return answer(E_QUOTA);
    }
  }
  // Its mark first (a copy of the capability, before that moves): never a moment public by mistake.
  const marked = setServicesOnly(i, forServices ? cap : 0);
  if (marked < 0) {
    capDrop(cap);
    return answer(marked);
  }
  // Registering again replaces (a restarted driver); a new entry gets its capability before its name.
  const put = setCap(i, cap);
  if (put < 0) {
    capDrop(cap);
    return answer(put);
  }
  const at = nameAt(i);
  for (let w = REGISTRY_NAME_WORDS - 1; w >= 0; w--) store<u32>(at + <usize>(w << 2), unchecked(key[w])); // the first byte last
  return answer(0);
}

function lookup(): u32 {
  dropBrought(0);
  if (!readName()) return answer(E_INVALID_ARGUMENT);
  const i = find();
  if (i < 0) return answer(E_INVALID_CAP);
  if (fromProgram() && servicesOnly(i)) return lookupForProgram();
  return answerEntry(i);
}

/**
 * A program's LOOKUP of a name for services only: "program-NAME" when that is registered (the
 * door a service keeps for programs: the log's "program-log"), else E_MISSING_RIGHT.
 */
function lookupForProgram(): u32 {
  const words = PROGRAM_PREFIX_WORDS;
  if (unchecked(key[REGISTRY_NAME_WORDS - 1]) != 0 || unchecked(key[REGISTRY_NAME_WORDS - 2]) != 0) return answer(E_MISSING_RIGHT);
  for (let w = REGISTRY_NAME_WORDS - 1; w >= words; w--) unchecked((key[w] = key[w - words]));
  unchecked((key[0] = 0x676f7270)); // "prog"
  unchecked((key[1] = 0x2d6d6172)); // "ram-"
  const i = find();
  if (i < 0 || servicesOnly(i)) return answer(E_MISSING_RIGHT);
  return answerEntry(i);
}

/** LOOKUP's answer for entry i: a copy of its capability, or E_INVALID_CAP when what it named is gone (the entry goes). */
function answerEntry(i: i32): u32 {
  const cap = capOf(i);
  if (cap == E_QUEUE_FULL) return answer(E_QUEUE_FULL);
  // What a name pointed to may have been destroyed since (its Memory went with its driver).
  if (cap <= 0 || capKind(cap) == E_PEER_DEAD) {
    if (cap > 0 && kept != null) capDrop(cap);
    remove(i);
    return answer(E_INVALID_CAP);
  }
  msgBegin(0);
  msgAddCap(kept != null ? <u32>cap | CAP_MOVE : <u32>cap); // a copy: the entry keeps its own
  return 0;
}

function list(): u32 {
  dropBrought(0);
  let at = <i32>min(msgWord(0), <u32>MAX_NAMES);
  while (at < MAX_NAMES && !used(at)) at++;
  msgBegin(Registry.Entry);
  if (at >= MAX_NAMES) {
    msgAddWord(0);
    return Registry.Entry;
  }
  let next = at + 1;
  while (next < MAX_NAMES && !used(next)) next++;
  msgAddWord(next < MAX_NAMES ? <u32>next : 0);
  const name = nameAt(at);
  for (let w = 0; w < REGISTRY_NAME_WORDS; w++) {
    const word = load<u32>(name + <usize>(w << 2));
    if (word == 0) break; // zero padding: the name ended in the word before
    msgAddWord(word);
  }
  return Registry.Entry;
}

/** FOR_PROGRAMS: a call capability with the programs' badge, minted from our Receiver. */
function forPrograms(): u32 {
  dropBrought(0);
  const cap = new Receiver(REQUESTS).mint(REGISTRY_PROGRAMS_BADGE, RIGHT_RECEIVER_CALL);
  if (cap < 0) return answer(cap);
  msgBegin(0);
  msgAddCap(<u32>cap | CAP_MOVE);
  return 0;
}

function handle(label: u32): u32 {
  badge = msgBadge();
  broughtCount = min(msgCapCount(), MAX_CAPS);
  for (let i = 0; i < broughtCount; i++) unchecked((brought[i] = msgCap(i)));
  if (label == REGISTRY_REGISTER) return register(false);
  if (label == REGISTRY_REGISTER_FOR_SERVICES) return register(true);
  if (label == REGISTRY_FOR_PROGRAMS) return forPrograms();
  if (label == REGISTRY_LOOKUP) return lookup();
  if (label == REGISTRY_LIST) return list();
  dropBrought(0);
  return answer(E_INVALID_ARGUMENT);
}

/** The table init keeps, when it gave it: the names' pages mapped; else the registry's own. */
function openTable(): void {
  unchecked((pageOf[0] = ownNames));
  unchecked((pageOf[1] = ownNames + <usize>(NAMES_PER_PAGE * NAME_BYTES)));
  if (capKind(KEPT_CAPS) != <i32>KIND_CAPPAGE || capKind(KEPT_NAMES) != <i32>KIND_PAGE || capKind(KEPT_NAMES + 1) != <i32>KIND_PAGE) return;
  for (let p = 0; p < 2; p++) {
    const address = new Page(KEPT_NAMES + p).mapGlobal(true);
    if (address < 0) {
      eprint("registry: cannot map the names init keeps: " + errorName(<i32>address) + "; keeping my own");
      unchecked((pageOf[0] = ownNames));
      unchecked((pageOf[1] = ownNames + <usize>(NAMES_PER_PAGE * NAME_BYTES)));
      return;
    }
    unchecked((pageOf[p] = <usize>address));
  }
  kept = new Cappage(KEPT_CAPS);
  // An entry a registry killed mid-write left with a bad name is freed.
  for (let i = 0; i < MAX_NAMES; i++) if (used(i) && !validName(nameAt(i))) remove(i);
}

if (capKind(REQUESTS) != <i32>KIND_RECEIVER) {
  eprint("registry: slot 2 is not a Receiver (init starts me with one)");
  exit(2);
}
/**
 * Makes sure every call on the Receiver is contract Registry's: init gave it the contract before it
 * minted anything (E_NOT_READY here: it has one); a Receiver nobody gave one takes it now, while
 * nothing is minted from it. One with callers and no contract is refused: the registry would serve
 * messages nobody checked.
 */
function requireContract(): void {
  const attached = registryAttach(REQUESTS);
  if (attached >= 0) return;
  // RECEIVER_INFO answers four words for a Receiver with a contract, two without.
  if (attached == E_NOT_READY && new Receiver(REQUESTS).info().status >= 0 && msgWordCount() >= 4) return;
  eprint("registry: slot 2 has no contract Registry, and cannot take it now: " + errorName(attached));
  exit(2);
}

requireContract();
openTable();
// Capabilities in requests are installed only while listening; REGISTER needs them.
const listening = Process.self().listen(true);
if (listening < 0) {
  eprint("registry: cannot listen: " + errorName(listening));
  exit(1);
}
const status = serve(REQUESTS, handle);
eprint("registry: receiver gone: " + errorName(status));
exit(1);
