// Process 1: the driver driver (docs/BOOT.md). It holds every capability at boot and hands out
// only what each service's config line names: it reads the boot info, starts the service
// registry and then every driver and service of the config in order, and watches them for ever,
// restarting the ones that end (parts/supervisor.ts). A bad config line is logged and skipped.
//
// Slots (docs/BOOT.md "Process 1's capabilities"): 2 all memory, 3 the boot info, 4 a Cappage of
// Images (boot module i at slot i), 5 of Devices, 6 of Interrupts (device i's at slot i), 7 the
// Kernel policy (the time slice).
import {
  exit, errorName, KernelPolicy, E_INVALID_ARGUMENT, now, Memory, Receiver, msgLabel, msgBadge, msgWord, msgWordCount, capKind, lineBegin, lineAdd, lineAddI32,
  linePrint, FOREVER, E_TIMEOUT, KIND_MEMORY, KIND_CAPPAGE, MSG_PROCESS_ENDED, MAX_RECEIVER_CAPACITY, sleep,
  msgBegin, msgReply, reply, msgCapCount, msgCap, capDrop, Process, STDOUT, RIGHT_RECEIVER_SEND, systemLogChannel,
} from "../lib";
import { CONTROL_HALT, CONTROL_KILL, CONTROL_ON_HALT, CONTROL_PAGER_READY, CONTROL_RESUME } from "../lib/init-control";
import { BootInfo, parseBootInfo, readBootInfo } from "./parts/boot-info";
import { fields, lines, parseCount } from "./parts/text";
import { configStartsFromManifests, parseConfig } from "./parts/config";
import { BootManifests, readBootManifests } from "./parts/manifests";
import { Holdings, Supervisor } from "./parts/supervisor";
import { PowerButton } from "./parts/power";
import { registryAttach } from "../lib/contracts/registry";

const MEMORY: i32 = 2;
const BOOT_INFO: i32 = 3;
const IMAGES: i32 = 4;
const DEVICES: i32 = 5;
const INTERRUPTS: i32 = 6;
const KERNEL: i32 = 7;
/**
 * Calls the registry may have queued before it runs (every service looks something up at start).
 * Contract Registry is of calls only: a call that finds the queue full waits behind it
 * (docs/CONTRACTS.md "Queue bounds"), so this bounds the queue's memory, not who may hold the
 * registry.
 */
const REGISTRY_QUEUE: u32 = 128;
/** Control calls (HALT) waiting for init: few services hold a control capability. */
const CONTROL_QUEUE: u32 = 8;
/** init's lines the log channel keeps while the log service is not running (a boot says about 30). */
const LOG_QUEUE: u32 = 256;
/** Page-outs and page-ins the pager may have queued. */
const PAGER_QUEUE: u32 = 64;

function fail(why: string, status: i32): void {
  lineBegin("init: ");
  lineAdd(why);
  lineAdd(": ");
  lineAdd(errorName(status));
  linePrint(STDOUT, true);
  exit(1);
}

function expectKind(slot: i32, kind: u32, what: string): void {
  const found = capKind(slot);
  if (found == <i32>kind) return;
  lineBegin("init: slot ");
  lineAddI32(slot);
  lineAdd(" should hold " + what + "; it holds ");
  if (found < 0) lineAdd(errorName(found));
  else {
    lineAdd("an object of kind ");
    lineAddI32(found);
  }
  linePrint(STDOUT, true);
  exit(1);
}

/** Kernel parameters, set through the Kernel policy capability (slot 7); each is logged. */
function applyParams(info: BootInfo): void {
  for (let i = 0; i < info.params.length; i++) {
    const p = info.params[i];
    lineBegin("init: param ");
    lineAdd(p.key);
    lineAdd(" ");
    lineAdd(p.value);
    if (p.key == "slice-ms") {
      const ms = parseCount(p.value);
      const status = ms > 0 ? new KernelPolicy(KERNEL).setSlice(<u32>ms * 1000) : E_INVALID_ARGUMENT;
      lineAdd(status == 0 ? ": applied" : ": refused, " + errorName(status));
    } else if (p.key == "format") lineAdd(": for the file system, which formats the disk (dogma boot --format)");
    else if (p.key == "verbose") lineAdd(": every line of the log shown on the console (dogma boot --verbose)");
    else lineAdd(": unknown; ignored");
    linePrint();
  }
}

/** Whether some line of the config grants `grant` (a field of a service or driver line, or a started module's manifest asks for it). */
function configGrants(config: string, grant: string, manifests: BootManifests | null): bool {
  const all = lines(config);
  for (let i = 0; i < all.length; i++) {
    const f = fields(all[i]);
    if (f.length >= 2 && f[0] == "start" && manifests != null) {
      const m = manifests.of(f[1]);
      if (m != null && m.hasCap(grant)) return true;
    }
    if (f.length < 3 || (f[0] != "service" && f[0] != "driver")) continue;
    for (let k = 3; k < f.length && f[k] != "--"; k++) if (f[k] == grant) return true;
  }
  return false;
}

/**
 * init's own lines go to the log service through a channel only init sends on (never waiting:
 * init must not depend on a service it supervises); they wait there while the log service is not
 * running. Only when a config line grants the channel (`log-channel`): otherwise nobody would
 * read it, and init prints on the console as before. With `param verbose 1` init shows them on
 * the console too; failures it always shows. The channel's slot, or 0.
 */
function startLogChannel(info: BootInfo, manifests: BootManifests | null): i32 {
  let verbose = false;
  for (let i = 0; i < info.params.length; i++) if (info.params[i].key == "verbose" && info.params[i].value == "1") verbose = true;
  if (!configGrants(info.config, "log-channel", manifests)) return 0;
  const channel = memory.createReceiver(LOG_QUEUE);
  if (channel < 0) fail("cannot create the log channel", channel);
  const send = new Receiver(channel).mint(0, RIGHT_RECEIVER_SEND);
  if (send < 0) fail("cannot mint a capability to the log channel", send);
  systemLogChannel(send, verbose);
  return channel;
}

expectKind(MEMORY, KIND_MEMORY, "a Memory");
// CONTROL_ON_HALT brings a capability, installed only while init listens.
const listening = Process.self().listen(true);
if (listening < 0) fail("cannot listen", listening);
expectKind(IMAGES, KIND_CAPPAGE, "the Cappage of Images");
expectKind(DEVICES, KIND_CAPPAGE, "the Cappage of Devices");
expectKind(INTERRUPTS, KIND_CAPPAGE, "the Cappage of Interrupts");
const text = readBootInfo(BOOT_INFO);
if (text == null) exit(1);
const info = parseBootInfo(text!);
if (!info.hasConfig) {
  lineBegin("init: the boot info has no config line: nothing to start");
  linePrint(STDOUT, true);
}
const memory = new Memory(MEMORY);
// A config that starts services from their manifests: every boot module's manifest is read and
// checked first, as the installer checks a program (parts/manifests.ts).
const manifests: BootManifests | null = configStartsFromManifests(info.config) ? readBootManifests(info, IMAGES, memory.info().quota) : null;
const logChannel = startLogChannel(info, manifests);
applyParams(info);
const entries = parseConfig(info.config, info, manifests);

const holds = new Holdings();
holds.logChannel = logChannel;
holds.memory = MEMORY;
holds.images = IMAGES;
holds.devices = DEVICES;
holds.interrupts = INTERRUPTS;
holds.kernel = KERNEL;
holds.bootInfo = BOOT_INFO;
holds.info = info;
holds.manifests = manifests;
holds.memoryPages = memory.info().quota;
holds.registry = memory.createReceiver(REGISTRY_QUEUE);
if (holds.registry < 0) fail("cannot create the registry's Receiver", holds.registry);
// Contract Registry (contracts/registry.contract) before anything is minted from it: every call to
// the registry, and every answer, is then checked by the kernel. The Receiver is init's, so the
// contract stays with it across the registry's restarts.
const attached = registryAttach(holds.registry);
if (attached < 0) fail("cannot give the registry's Receiver contract Registry", attached);
// A service is restarted only after its notice, so one per service is queued at most, and one
// more for an attempt killed because a step of its start failed after it was monitored. A notice
// that found the queue full would be lost, and its service never restarted.
holds.notices = memory.createReceiver(min(2 * <u32>entries.length + 1, MAX_RECEIVER_CAPACITY));
if (holds.notices < 0) fail("cannot create a Receiver for notices", holds.notices);

holds.control = memory.createReceiver(CONTROL_QUEUE);
if (holds.control < 0) fail("cannot create the control Receiver", holds.control);
// The paging channel, when a line names a pager: the kernel's PAGE_OUT and PAGE_IN queue here.
for (let i = 0; i < entries.length; i++) {
  if (entries[i].pagerPages == 0) continue;
  holds.pagerChannel = memory.createReceiver(PAGER_QUEUE);
  if (holds.pagerChannel < 0) fail("cannot create the paging channel", holds.pagerChannel);
  break;
}

lineBegin("init: ");
lineAddI32(info.modules.length);
lineAdd(" modules, ");
lineAddI32(info.devices.length);
lineAdd(" devices, ");
lineAddI32(entries.length);
lineAdd(" services");
linePrint();

const supervisor = new Supervisor(holds, entries);
supervisor.startAll();

// Watch for ever: a notice when a service ends, a timeout when a restart is due. Waiting in the
// receive (not in a sleep) keeps notices coming while backoffs run.
/** A control call is in the buffer: HALT stops everything and exits 0 (the machine powers off); else E_INVALID_ARGUMENT. */
const brought = new StaticArray<i32>(4);

function control(badge: u32, label: u32, replyCap: i32): void {
  // Only CONTROL_ON_HALT keeps a capability; any other is dropped, so no caller fills init's table.
  const count = min(msgCapCount(), 4);
  // PAGER_READY's word, if any: the pages the pager takes in one message (read before any call below).
  const pagerBatch: u32 = msgWordCount() > 0 ? msgWord(0) : 1;
  for (let i = 0; i < count; i++) unchecked((brought[i] = msgCap(i)));
  for (let i = label == CONTROL_ON_HALT ? 1 : 0; i < count; i++) capDrop(unchecked(brought[i]));
  if (label == CONTROL_PAGER_READY) {
    // Only the pager's line may say so: paging starts through the channel its grant holds.
    const status = supervisor.pagerReady(badge, pagerBatch);
    msgBegin(<u32>(status < 0 ? -status : 0));
    if (replyCap != 0) reply(replyCap);
    return;
  }
  if (label >= CONTROL_KILL && label <= CONTROL_RESUME) {
    const status = supervisor.supervise(badge, label - CONTROL_KILL, msgWord(0));
    msgBegin(<u32>(status < 0 ? -status : 0));
    if (replyCap != 0) reply(replyCap);
    return;
  }
  if (label == CONTROL_ON_HALT) {
    const status = supervisor.onHalt(badge, count > 0 ? unchecked(brought[0]) : 0);
    msgBegin(<u32>(status < 0 ? -status : 0));
    if (replyCap != 0) reply(replyCap);
    return;
  }
  if (label != CONTROL_HALT) {
    msgBegin(<u32>-E_INVALID_ARGUMENT);
    if (replyCap != 0) reply(replyCap);
    return;
  }
  msgBegin(0);
  if (replyCap != 0) reply(replyCap);
  halt(supervisor.nameOf(badge));
}

/** Stops every service and ends process 1 with 0: the machine powers off (docs/BOOT.md "Halting"). */
function halt(requestedBy: string): void {
  lineBegin("init: halt requested by ");
  lineAdd(requestedBy);
  linePrint();
  const stopped = supervisor.stopAll();
  lineBegin("init: stopped ");
  lineAddI32(stopped);
  lineAdd(" services; halting");
  linePrint();
  exit(0);
}

const notices = new Receiver(holds.notices);
const others: i32[] = [holds.control];
// The host's power button (parts/power.ts): its press arrives as the second of the others.
const power = new PowerButton();
power.connect(info, memory, DEVICES, INTERRUPTS);
if (power.receiver != 0) others.push(power.receiver);
for (;;) {
  const next = supervisor.nextRestart();
  let timeout: u64 = FOREVER;
  if (next >= 0) {
    const t = now();
    timeout = next > t ? <u64>(next - t) : 0;
  }
  const status = notices.receiveAny(others, timeout);
  if (status == 1) control(msgBadge(), msgLabel(), msgReply());
  else if (status == 2) {
    power.acknowledge();
    halt("the host");
  } else if (status >= 0) {
    if (msgLabel() == MSG_PROCESS_ENDED) supervisor.ended(msgBadge(), msgWord(0));
  } else if (status != E_TIMEOUT) {
    lineBegin("init: receiving notices: ");
    lineAdd(errorName(status));
    linePrint(STDOUT, true);
    sleep(1_000_000_000); // should never happen; do not spin if it does
  }
  supervisor.restartDue();
  if (supervisor.sessionLost.length > 0) {
    const stopped = supervisor.stopAll(); // first: it logs as it goes
    lineBegin("init: the session (");
    lineAdd(supervisor.sessionLost);
    lineAdd(") cannot run, and nothing else can use the machine; stopped ");
    lineAddI32(stopped);
    lineAdd(" services; halting");
    linePrint();
    power.setHaltStatus(1); // the host ends as a failure
    exit(0);
  }
  if (supervisor.halting) {
    // The session (config `session`) is over: stop as a HALT does. Process 1 ending with 0 is a
    // clean halt (docs/BOOT.md), and the host exits with the session's status.
    const stopped = supervisor.stopAll(); // first: it logs as it goes
    lineBegin("init: the session is over; stopped ");
    lineAddI32(stopped);
    lineAdd(" services; halting");
    linePrint();
    power.setHaltStatus(supervisor.sessionStatus);
    exit(0);
  }
}
