// The service registry's protocol (docs/BOOT.md "The service registry"; contract Registry,
// contracts/registry.contract, which the kernel checks): the name encoding and the client calls,
// made through the contract's generated wrappers. Every process init starts, but the registry itself, holds a
// call capability to the registry at slot 2 (SLOT_REGISTRY).
//
// A name is UTF-8, 1 to 64 bytes with no zero byte, sent as data words zero-padded to a whole
// word. A reply's label is 0 or a status; since a reply label may not be a kernel label (and a
// negative status as u32 would be one), the registry sends a status as its magnitude:
// E_INVALID_CAP (-1) goes out as label 1. registryStatus turns the label back into the status.
import { E_INVALID_ARGUMENT, E_PEER_DEAD } from "./errors";
import { msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgCap, msgCapCount, msgWord, msgWordCount } from "./message";
import { Registry, RegistryReady } from "./contracts/registry";

export const REGISTRY_REGISTER: u32 = Registry.Register;
export const REGISTRY_LOOKUP: u32 = Registry.Lookup;
export const REGISTRY_LIST: u32 = Registry.List;
/** A call capability to the registry for the programs the caller starts (badge REGISTRY_PROGRAMS_BADGE). */
export const REGISTRY_FOR_PROGRAMS: u32 = Registry.ForPrograms;
/** As REGISTER, for a name only services may look up (a driver's, which programs must reach through its service). */
export const REGISTRY_REGISTER_FOR_SERVICES: u32 = Registry.RegisterForServices;
/**
 * The badge bit of a program's registry capability (procman gives its jobs one, the shell looks
 * up with one for a program's manifest): it registers nothing and finds no name for services only.
 * Init's badges for its services are small numbers.
 */
export const REGISTRY_PROGRAMS_BADGE: u32 = 0x8000_0000;

/** Where init puts the call capability to the registry. */
export const SLOT_REGISTRY: i32 = 2;
export const REGISTRY_NAME_BYTES: i32 = 64;
export const REGISTRY_NAME_WORDS: i32 = 16;

const nameScratch: usize = memory.data(REGISTRY_NAME_BYTES);

/** The label a registry reply carries for `status` (0 or negative): its magnitude. */
export function registryLabel(status: i32): u32 {
  return <u32>(status < 0 ? -status : 0);
}

/** The status a registry reply's label stands for (REGISTER and LOOKUP): 0 or negative. */
export function registryStatus(label: u32): i32 {
  return -<i32>label;
}

/**
 * Appends `name` to the message as zero-padded UTF-8 words. False (and nothing appended) when
 * it is empty, longer than 64 bytes or holds a zero character.
 */
export function msgAddName(name: string): bool {
  const len = String.UTF8.byteLength(name);
  if (len == 0 || len > REGISTRY_NAME_BYTES || name.indexOf("\0") >= 0) return false;
  memory.fill(nameScratch, 0, REGISTRY_NAME_BYTES);
  String.UTF8.encodeUnsafe(changetype<usize>(name), name.length, nameScratch);
  const words = (len + 3) >> 2;
  for (let i = 0; i < words; i++) msgAddWord(load<u32>(nameScratch + (<usize>i << 2)));
  return true;
}

/** The name in the message's data words from word `from` (up to the first zero byte); allocates. */
export function msgName(from: i32 = 0): string {
  const words = min(max(msgWordCount() - from, 0), REGISTRY_NAME_WORDS);
  for (let i = 0; i < words; i++) store<u32>(nameScratch + (<usize>i << 2), msgWord(from + i));
  let len = 0;
  while (len < words * 4 && load<u8>(nameScratch + <usize>len) != 0) len++;
  return String.UTF8.decodeUnsafe(nameScratch, <usize>len);
}

/**
 * Publishes `cap` under `name` (`cap | CAP_MOVE` hands it over instead of a copy); registering
 * a name again replaces what it named. 0, or a status (E_INVALID_ARGUMENT: a bad name;
 * E_QUOTA: the registry is full; E_MISSING_RIGHT: a program's capability, which registers
 * nothing; the call's own status if it failed).
 */
export function registryRegister(name: string, cap: u32, registry: i32 = SLOT_REGISTRY, label: u32 = REGISTRY_REGISTER): i32 {
  msgBegin(label);
  if (!msgAddName(name)) return E_INVALID_ARGUMENT;
  msgAddCap(cap);
  const status = msgInvoke(registry);
  return status < 0 ? status : registryStatus(msgLabel());
}

/**
 * As registryRegister, for services only: a program's lookup of `name` answers E_MISSING_RIGHT.
 * For a driver, whose clients are services (the file system reaches the disk; programs reach
 * the file system).
 */
export function registryRegisterForServices(name: string, cap: u32, registry: i32 = SLOT_REGISTRY): i32 {
  return registryRegister(name, cap, registry, REGISTRY_REGISTER_FOR_SERVICES);
}

/**
 * A call capability to the registry for programs (REGISTRY_FOR_PROGRAMS): it looks up what
 * programs may find and registers nothing. Its index, or a status.
 */
export function registryForPrograms(registry: i32 = SLOT_REGISTRY): i32 {
  let status = E_PEER_DEAD;
  for (let i = 0; i <= REGISTRY_RETRIES && status == E_PEER_DEAD; i++) {
    RegistryReady.beginForPrograms();
    status = RegistryReady.forPrograms(registry);
  }
  if (status < 0) return status;
  const answer = registryStatus(msgLabel());
  if (answer < 0) return answer;
  return msgCapCount() > 0 ? msgCap(0) : E_INVALID_ARGUMENT;
}

/**
 * Times a call is made again when the registry died holding it (E_PEER_DEAD): init restarts it on
 * the same Receiver, with the same table (docs/BOOT.md), so the next call is answered.
 */
const REGISTRY_RETRIES: i32 = 3;

/** A copy of the capability registered as `name`, installed here: its index, or a status (E_INVALID_CAP: no such name). */
export function registryLookup(name: string, registry: i32 = SLOT_REGISTRY): i32 {
  let status = E_PEER_DEAD;
  for (let i = 0; i <= REGISTRY_RETRIES && status == E_PEER_DEAD; i++) {
    RegistryReady.beginLookup();
    if (!msgAddName(name)) return E_INVALID_ARGUMENT;
    status = RegistryReady.lookup(registry);
  }
  if (status < 0) return status;
  const answer = registryStatus(msgLabel());
  if (answer < 0) return answer;
  return msgCapCount() > 0 ? msgCap(0) : E_INVALID_ARGUMENT;
}

/** LIST's answer: the name at an index and the index after it (0: that was the last). */
export class RegistryEntry {
  status: i32 = 0;
  name: string = "";
  next: u32 = 0;
}

/**
 * The name at `index` in the registry's table. Start at 0 and follow `next` until it is 0; an
 * index past the end answers an empty name. Allocates.
 */
export function registryList(index: u32, registry: i32 = SLOT_REGISTRY): RegistryEntry {
  const entry = new RegistryEntry();
  RegistryReady.beginList();
  msgAddWord(index);
  entry.status = RegistryReady.list(registry);
  if (entry.status >= 0) {
    // Entry: the index after this name's entry, then the name.
    entry.next = msgWordCount() > 0 ? msgWord(0) : 0;
    entry.name = msgName(1);
  }
  return entry;
}
