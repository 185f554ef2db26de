// Starting, watching and restarting the config's services. Each service is created from its
// boot module's Image, given exactly the capabilities its line grants (docs/BOOT.md "Config"),
// monitored through a send capability to init's notices Receiver whose badge is the service's
// number, and started. When it ends, init reads PROCESS_STATE, logs how it ended, frees what it
// had, and restarts it after a backoff (100 ms, doubling, at most 5 s; a run of a minute or more
// starts the backoff over) unless it failed 5 times within a minute: then init gives up on it.
// A process that exits with code 0 has finished its work and is not restarted.
//
// Nothing here allocates once the services are set up: the steady state (a notice, a restart)
// uses the message buffer and the static log line only, so init can run for ever on the stub
// runtime.
import {
  msgBegin, msgAddWord, msgAddCap, msgInvoke, msgWord, capCopy, capDrop, errorName, now,
  lineBegin, lineAdd, lineAddI32, lineAddU32, lineAddHex, lineAddI64, linePrint, stateName, faultKindName,
  CAP_MOVE, RIGHT_RECEIVER_RECEIVE, RIGHT_RECEIVER_MINT, RIGHT_RECEIVER_CALL, RIGHT_RECEIVER_SEND, OP_CAPPAGE_GET, OP_MEMORY_CREATE_MEMORY, OP_MEMORY_CREATE_PROCESS,
  OP_MEMORY_DESTROY, OP_MEMORY_CREATE_CAPPAGE, RIGHT_CAPPAGE_WRITE, OP_PROCESS_GIVE, OP_PROCESS_MONITOR, OP_PROCESS_START, OP_PROCESS_STATE, OP_PROCESS_KILL, OP_RECEIVER_MINT,
  STATE_EXITED, STATE_FAULTED, KILLED_EXIT_CODE, msgCap, msgAddArgsBlock, OP_PROCESS_SET_ARGS, OP_CAPPAGE_PUT, CAPPAGE_SLOTS,
  RIGHT_KERNEL_INSPECT, RIGHT_CAPPAGE_READ, RIGHT_REGION_READ, OP_KERNEL_SET_PIN, OP_KERNEL_SET_PAGER, OP_KERNEL_SET_PAGING, E_MISSING_RIGHT,
  SLOT_SELF, PIN_PINNED, OP_PROCESS_SUSPEND, OP_PROCESS_RESUME, E_NO_PROCESS, E_NOT_READY, Receiver, msgLabel, msgBadge, msgReply, reply,
  OP_MEMORY_CREATE_PAGE, Page, PAGE_SHARED, STDOUT, Cappage,
} from "../../lib";
import { CONTROL_FINISH, CONTROL_FINISHED } from "../../lib/init-control";
import {
  GRANT_BOOT_INFO, GRANT_BOOT_MODULES, GRANT_CONTROL, GRANT_DEVICE, GRANT_IMAGES, GRANT_INTERRUPT, GRANT_KERNEL, GRANT_KERNEL_INFO, GRANT_MEMORY,
  GRANT_PUBLISH, GRANT_USE, GRANT_READ, GRANT_SWAP, GRANT_PAGER, GRANT_LOG_CHANNEL, ServiceEntry, sharedNames, grantFromManifest,
} from "./config";
import { BootInfo } from "./boot-info";
import { BootManifests } from "./manifests";
import { loadInstalled } from "./installed";

/** How long a halt waits for a service it asked to finish (CONTROL_ON_HALT). */
export const FINISH_WAIT_NS: i64 = 5_000_000_000;
export const BACKOFF_FIRST_NS: i64 = 100_000_000;
export const BACKOFF_MAX_NS: i64 = 5_000_000_000;
export const FAILURE_WINDOW_NS: i64 = 60_000_000_000;
export const MAX_FAILURES: i32 = 5;
const NONE: u32 = 0xffffffff;

/** What init holds to start services: slots of its own table. */
export class Holdings {
  /** init's Memory (all rights). */
  memory: i32 = 0;
  /** Cappages of Images, Devices and Interrupts (slots 4, 5, 6). */
  images: i32 = 0;
  devices: i32 = 0;
  interrupts: i32 = 0;
  /** The registry's Receiver (receive and mint): the registry gets a receive copy, others call capabilities. */
  registry: i32 = 0;
  /** init's own Receiver, where PROCESS_ENDED notices arrive (badge: the service's number). */
  notices: i32 = 0;
  /** The Kernel capability (slot 7) and the boot info view (slot 3). */
  kernel: i32 = 0;
  bootInfo: i32 = 0;
  /** init's control Receiver (HALT), whose call capabilities the `control` grant hands out. */
  control: i32 = 0;
  /** The paging channel (pager= grant): the kernel sends PAGE_OUT and PAGE_IN here; 0: none. */
  pagerChannel: i32 = 0;
  /** The log channel (init's own lines wait there for the log service), when a line says `log-channel`. */
  logChannel: i32 = 0;
  /** For `start` lines of installed programs: the boot info, the boot modules' manifests (what they are checked against) and the machine's pages. */
  info: BootInfo | null = null;
  manifests: BootManifests | null = null;
  memoryPages: u32 = 0;
}

/** How one attempt of a service ended: from PROCESS_STATE, or the step that failed to start it. */
class Ending {
  state: u32 = 0;
  exitCode: i32 = 0;
  faultKind: i32 = -1;
  faultAddress: u32 = NONE;
  /** When it could not be started: the step and its status. */
  failedStep: string = "";
  status: i32 = 0;
}

export class Service {
  /** Capabilities of the running attempt (0: none). */
  process: i32 = 0;
  memory: i32 = 0;
  /** The running attempt's pid; 0 while it is not running. */
  pid: u32 = 0;
  startedAt: i64 = 0;
  started: i32 = 0;
  /** When to start it again (-1: not scheduled). */
  restartAt: i64 = -1;
  backoffNs: i64 = BACKOFF_FIRST_NS;
  /** The times of its last MAX_FAILURES failures, a ring. */
  failureTimes: StaticArray<i64> = new StaticArray<i64>(MAX_FAILURES);
  failures: i32 = 0;
  /**
   * Failures in a row since an attempt that stayed up a minute: a service that fails slowly (each
   * attempt lasting longer than a fifth of the window) never has 5 failures within a minute, but
   * is no less broken.
   */
  shortRuns: i32 = 0;
  /** It finished (exit 0) or init gave up on it. */
  stopped: bool = false;
  /** Its CONTROL_ON_HALT capability (0: none): told to finish before a halt stops it. */
  onHalt: i32 = 0;
  readonly ending: Ending = new Ending();

  constructor(readonly entry: ServiceEntry, readonly badge: u32) {}
}

export class Supervisor {
  readonly services: Service[] = [];
  /** A session service (config `session`) exited: the system is to halt, with its exit code as the status. */
  halting: bool = false;
  sessionStatus: i32 = 0;
  /** The session service init gave up on ("": none): the system is to halt too. */
  sessionLost: string = "";
  /** The shared Cappages of publish= and use= grants, by their index in sharedNames (0: could not be made). */
  readonly shared: i32[] = [];
  /** For boot-modules grants: a Cappage of the boot modules' Images without IMAGE_SPAWN (to map, not to run); 0 if no line asks. */
  moduleImages: i32 = 0;
  /**
   * The registry's table, kept here across its restarts: a Cappage of the capabilities registered
   * and two Pages of their names (docs/BOOT.md "The service registry"); 0 when they could not be made.
   */
  registryCaps: i32 = 0;
  /** Its names (two Pages) and their owners (one). */
  registryNames: StaticArray<i32> = new StaticArray<i32>(3);

  constructor(readonly holds: Holdings, entries: ServiceEntry[]) {
    // Badges start at 1, so that 0 never names a service.
    for (let i = 0; i < entries.length; i++) this.services.push(new Service(entries[i], <u32>i + 1));
    for (let i = 0; i < entries.length; i++) {
      for (let g = 0; g < entries[i].grants.length; g++) if (entries[i].grants[g].kind == GRANT_BOOT_MODULES && this.moduleImages == 0) this.moduleImages = this.imagesToMap();
    }
    for (let i = 0; i < entries.length; i++) if (entries[i].isRegistry) this.keepRegistryTable();
    for (let i = 0; i < sharedNames.length; i++) {
      msgBegin(OP_MEMORY_CREATE_CAPPAGE);
      const made = msgInvoke(holds.memory);
      this.shared.push(made < 0 ? 0 : msgCap(0));
      if (made < 0) {
        lineBegin("init: cannot make the shared Cappage ");
        lineAdd(sharedNames[i]);
        lineAdd(": ");
        lineAdd(errorName(made));
        linePrint(STDOUT, true);
      }
    }
  }

  /** Starts every service, in order. */
  /**
   * Starts every service, in order, from the first not started yet. After a pager (pager= grant)
   * it stops until the pager says it is ready (pagerReady), so that what follows it runs with
   * paging on: a workload larger than memory would otherwise run out of frames first.
   */
  startAll(): void {
    for (; this.nextToStart < this.services.length; this.nextToStart++) {
      const s = unchecked(this.services[this.nextToStart]);
      this.start(s);
      if (s.entry.pagerPages != 0 && !this.pagingOn && s.pid != 0) {
        this.nextToStart++;
        return;
      }
    }
  }

  /** The index of the next service startAll starts. */
  private nextToStart: i32 = 0;

  /** The earliest pending restart (-1: none). */
  nextRestart(): i64 {
    let next: i64 = -1;
    for (let i = 0; i < this.services.length; i++) {
      const at = unchecked(this.services[i]).restartAt;
      if (at >= 0 && (next < 0 || at < next)) next = at;
    }
    return next;
  }

  /** Starts again each service whose backoff is over. */
  restartDue(): void {
    const t = now();
    for (let i = 0; i < this.services.length; i++) {
      const s = unchecked(this.services[i]);
      if (s.restartAt >= 0 && s.restartAt <= t) {
        s.restartAt = -1;
        this.start(s);
      }
    }
  }

  /** A PROCESS_ENDED notice came through the capability with `badge`. Stale ones are ignored. */
  ended(badge: u32, pid: u32): void {
    if (badge == 0 || badge > <u32>this.services.length) return;
    const s = unchecked(this.services[badge - 1]);
    if (s.pid == 0 || s.pid != pid) return;
    const e = s.ending;
    e.failedStep = "";
    msgBegin(OP_PROCESS_STATE);
    if (msgInvoke(s.process) >= 0) {
      e.state = msgWord(1);
      e.exitCode = <i32>msgWord(2);
      e.faultKind = <i32>msgWord(3);
      e.faultAddress = msgWord(4);
    }
    const ranFor = now() - s.startedAt;
    this.release(s);
    lineBegin("init: ");
    lineAdd(s.entry.name);
    lineAdd(" (pid ");
    lineAddU32(pid);
    lineAdd(") ");
    describeEnding(e);
    // Once the kernel pages through it, the pager is never done: it is restarted whatever it ended with.
    const pagerNeeded = s.entry.pagerPages != 0 && this.pagingOn;
    // A session ends when it exits with any code (`exit 3` in the shell), unless it was killed.
    const sessionOver = s.entry.session && e.state == STATE_EXITED && e.exitCode != KILLED_EXIT_CODE;
    if ((e.state == STATE_EXITED && e.exitCode == 0 && !pagerNeeded) || sessionOver) {
      s.stopped = true;
      lineAdd(s.entry.session ? "; the session is over" : "; not restarting");
      linePrint();
      if (s.entry.session) {
        this.halting = true;
        this.sessionStatus = e.exitCode;
      }
      this.goOnWithoutPager(s);
      this.goOnIfPagerStore(s);
      return;
    }
    if (ranFor >= FAILURE_WINDOW_NS) {
      s.backoffNs = BACKOFF_FIRST_NS;
      s.shortRuns = 0;
    }
    this.failed(s);
  }

  /** Creates, grants, monitors and starts one attempt of `s`; a failed step counts as a failure. */
  private start(s: Service): void {
    if (s.entry.installed && s.entry.image == 0 && !this.readInstalled(s)) {
      s.stopped = true;
      return;
    }
    const step = this.launch(s);
    if (step.length == 0) {
      lineBegin(s.started == 0 ? "init: started " : "init: restarted ");
      lineAdd(s.entry.name);
      lineAdd(" (pid ");
      lineAddU32(s.pid);
      lineAdd(")");
      linePrint();
      s.started++;
      return;
    }
    s.ending.failedStep = step;
    this.release(s);
    lineBegin("init: cannot start ");
    lineAdd(s.entry.name);
    lineAdd(": ");
    describeEnding(s.ending);
    this.failed(s);
  }

  /**
   * The first start of an installed program's `start` line: its record and binary read from the
   * file system that publishes "fs", checked as the installer checks them (./installed.ts), and
   * granted what its manifest asks as a boot module's would be. Whether it may start; if not, the
   * log says why and the line is skipped (never retried: what is not installed stays so).
   */
  private readInstalled(s: Service): bool {
    const entry = s.entry;
    let why = "";
    let roots = 0;
    for (let i = 0; i < sharedNames.length && i < this.shared.length; i++) if (sharedNames[i] == "fs") roots = this.shared[i];
    if (roots == 0) why = "no line publishes the file system (publish=fs) to read it from";
    let image = 0;
    if (why.length == 0) {
      const loaded = loadInstalled(entry.name, roots, this.holds.memory, this.holds.manifests, this.holds.memoryPages);
      why = loaded.why;
      image = loaded.image;
      if (why.length == 0) {
        const entries = new Array<ServiceEntry>();
        for (let i = 0; i < this.services.length; i++) entries.push(unchecked(this.services[i]).entry);
        why = grantFromManifest(entry, entry.startFields!, loaded.manifest!, entries, this.holds.info!);
      }
    }
    for (let g = 0; g < entry.grants.length && why.length == 0; g++) {
      const grant = entry.grants[g];
      // Shared Cappages are made for the boot config's names before anything starts.
      if ((grant.kind == GRANT_PUBLISH || grant.kind == GRANT_USE || grant.kind == GRANT_READ || grant.kind == GRANT_SWAP) && <i32>grant.value >= this.shared.length) why = "it asks for a shared Cappage no boot line makes";
      if (grant.kind == GRANT_BOOT_MODULES && this.moduleImages == 0) this.moduleImages = this.imagesToMap();
    }
    if (why.length > 0) {
      if (image > 0) capDrop(image);
      entry.grants.length = 0;
      lineBegin("init: config line ");
      lineAddU32(<u32>entry.line);
      lineAdd(": installed program ");
      lineAdd(entry.name);
      lineAdd(": ");
      lineAdd(why);
      lineAdd("; skipped: start ");
      lineAdd(entry.name);
      linePrint(STDOUT, true);
      return false;
    }
    entry.image = image;
    return true;
  }

  /** The steps of a start: "" when all worked, else the one that failed (its status in s.ending). */
  private launch(s: Service): string {
    const h = this.holds;
    const entry = s.entry;
    let home = h.memory;
    if (entry.memoryPages != 0) {
      msgBegin(OP_MEMORY_CREATE_MEMORY);
      msgAddWord(entry.memoryPages);
      if (!this.check(s, msgInvoke(h.memory))) return "create its Memory";
      s.memory = msgCap(0);
      home = s.memory;
    }
    const image = entry.installed ? capCopy(entry.image) : this.capFrom(s, h.images, <u32>entry.module);
    if (image <= 0) return "get its module's Image";
    msgBegin(OP_MEMORY_CREATE_PROCESS);
    msgAddWord(entry.priority);
    msgAddCap(<u32>image);
    const created = msgInvoke(home);
    const process = msgCap(0);
    capDrop(image);
    if (!this.check(s, created)) return "create the process";
    s.process = process;
    const args = entry.argsBlock;
    if (args != null) {
      msgBegin(OP_PROCESS_SET_ARGS);
      msgAddArgsBlock(args, entry.argc);
      if (!this.check(s, msgInvoke(s.process))) return "give it its arguments";
    }

    // Slot 2: the registry's Receiver for the registry (it mints the programs' capability, whose
    // badge says they register nothing), a call capability to it for everyone else.
    const registry = entry.isRegistry ? capCopy(h.registry, RIGHT_RECEIVER_RECEIVE | RIGHT_RECEIVER_MINT) : mint(h.registry, s.badge, RIGHT_RECEIVER_CALL);
    if (!this.check(s, registry) || !this.give(s, <u32>registry | CAP_MOVE)) return "give it the registry";
    if (entry.isRegistry && this.registryCaps != 0) {
      // Slots 3 to 6: its table, the same for every attempt.
      // Given as copies (no CAP_MOVE): init keeps its own.
      if (!this.give(s, <u32>this.registryCaps) || !this.give(s, <u32>unchecked(this.registryNames[0])) ||
          !this.give(s, <u32>unchecked(this.registryNames[1])) || !this.give(s, <u32>unchecked(this.registryNames[2]))) return "give it its table";
    }

    for (let i = 0; i < entry.grants.length; i++) {
      const grant = unchecked(entry.grants[i]);
      if (grant.kind == GRANT_MEMORY) {
        if (!this.give(s, <u32>s.memory)) return "give it its Memory";
        continue;
      }
      if ((grant.kind >= GRANT_KERNEL && grant.kind <= GRANT_CONTROL) || grant.kind == GRANT_KERNEL_INFO) {
        const step = this.givePlain(s, grant.kind);
        if (step.length > 0) return step;
        continue;
      }
      if (grant.kind == GRANT_PAGER) {
        // The paging channel's receive side: the same Receiver for every attempt, so a restarted
        // pager takes the kernel's requests where the last one left them.
        const channel = h.pagerChannel == 0 ? 0 : capCopy(h.pagerChannel, RIGHT_RECEIVER_RECEIVE);
        if (channel <= 0 || !this.give(s, <u32>channel | CAP_MOVE)) return "give it the paging channel";
        continue;
      }
      if (grant.kind == GRANT_LOG_CHANNEL) {
        // The receive side of init's log channel: the same Receiver for every attempt, so what
        // init said while the log service was down waits there for its successor.
        const channel = h.logChannel == 0 ? 0 : capCopy(h.logChannel, RIGHT_RECEIVER_RECEIVE);
        if (channel <= 0 || !this.give(s, <u32>channel | CAP_MOVE)) return "give it the log channel";
        continue;
      }
      if (grant.kind == GRANT_BOOT_MODULES) {
        // The Images Cappage read-only, then a copy of the boot info's view (which names them).
        const images = this.moduleImages == 0 ? 0 : capCopy(this.moduleImages, RIGHT_CAPPAGE_READ);
        if (images <= 0 || !this.give(s, <u32>images | CAP_MOVE)) return "give it the boot modules";
        const info = capCopy(h.bootInfo);
        if (info <= 0 || !this.give(s, <u32>info | CAP_MOVE)) return "give it the boot info";
        continue;
      }
      if (grant.kind == GRANT_PUBLISH || grant.kind == GRANT_USE || grant.kind == GRANT_READ || grant.kind == GRANT_SWAP) {
        const page = unchecked(this.shared[grant.value]);
        const rights = grant.kind == GRANT_PUBLISH ? RIGHT_CAPPAGE_READ | RIGHT_CAPPAGE_WRITE : RIGHT_CAPPAGE_READ;
        // read=: slot 1 alone, the publisher's read-only offering (seen as slot 0): never the root
        // with every right; swap=: slot 2 alone, its offering to the pager.
        const copy = page == 0 ? 0 : grant.kind == GRANT_READ ? slotWindow(page, 1) : grant.kind == GRANT_SWAP ? slotWindow(page, 2) : capCopy(page, rights);
        if (copy <= 0 || !this.give(s, <u32>copy | CAP_MOVE)) return "give it its shared Cappage";
        continue;
      }
      const from = grant.kind == GRANT_DEVICE ? h.devices : h.interrupts;
      const cap = this.capFrom(s, from, grant.value);
      if (cap <= 0) return grant.kind == GRANT_DEVICE ? "get its device" : "get its interrupt";
      if (!this.give(s, <u32>cap | CAP_MOVE)) return grant.kind == GRANT_DEVICE ? "give it its device" : "give it its interrupt";
    }

    const notice = mint(h.notices, s.badge, RIGHT_RECEIVER_SEND);
    if (!this.check(s, notice)) return "mint its monitor capability";
    msgBegin(OP_PROCESS_MONITOR);
    msgAddCap(<u32>notice | CAP_MOVE);
    if (!this.check(s, msgInvoke(s.process))) return "monitor it";

    if (entry.pin >= 0) {
      msgBegin(OP_KERNEL_SET_PIN);
      msgAddWord(<u32>entry.pin);
      msgAddCap(<u32>s.process);
      if (!this.check(s, msgInvoke(h.kernel))) return "pin it";
    }

    msgBegin(OP_PROCESS_STATE);
    if (!this.check(s, msgInvoke(s.process))) return "read its pid";
    const pid = msgWord(0);
    msgBegin(OP_PROCESS_START);
    if (!this.check(s, msgInvoke(s.process))) return "start it";
    s.pid = pid;
    s.startedAt = now();
    return "";
  }

  /**
   * CONTROL_PAGER_READY from the service with `badge`: when that is the pager (pager= grant),
   * the kernel starts paging through its channel, `batch` pages to a message at most (what the
   * pager said it takes; the kernel refuses more than it allows, and paging does not start). A pager only asks once it will never need a
   * page-in to go on (its memory touched, its store open): paging before that could deadlock it.
   */
  pagerReady(badge: u32, batch: u32): i32 {
    if (badge == 0 || badge > <u32>this.services.length) return E_MISSING_RIGHT;
    const entry = unchecked(this.services[badge - 1]).entry;
    if (entry.pagerPages == 0) return E_MISSING_RIGHT;
    if (this.pagingOn) return 0; // a restarted pager: the kernel pages through the same channel
    const status = this.startPaging(entry.pagerPages, entry.pagingPolicy, batch);
    this.startAll(); // the services after the pager
    return status;
  }

  /**
   * A pager that is done before it said READY (it found no file system) or that init gave up on:
   * the services after it start anyway, without paging.
   */
  private goOnWithoutPager(s: Service): void {
    if (s.entry.pagerPages == 0 || this.pagingOn) return;
    lineBegin("init: no paging: ");
    lineAdd(s.entry.name);
    lineAdd(" never said it was ready");
    linePrint(STDOUT, true);
    this.startAll();
  }

  /**
   * `s` finished (exit 0) without being restarted: when it publishes what the waiting pager uses
   * (the file system, on a machine without a disk), the pager will never be ready, and the lines
   * after it need not wait for it to give up.
   */
  private goOnIfPagerStore(s: Service): void {
    if (this.pagingOn) return;
    for (let i = 0; i < this.services.length; i++) {
      const pager = unchecked(this.services[i]);
      if (pager.entry.pagerPages == 0 || pager.stopped || pager.pid == 0) continue;
      for (let g = 0; g < s.entry.grants.length; g++) {
        const published = unchecked(s.entry.grants[g]);
        if (published.kind != GRANT_PUBLISH) continue;
        for (let u = 0; u < pager.entry.grants.length; u++) {
          const used = unchecked(pager.entry.grants[u]);
          if ((used.kind != GRANT_USE && used.kind != GRANT_READ && used.kind != GRANT_SWAP) || used.value != published.value) continue;
          lineBegin("init: no paging: ");
          lineAdd(s.entry.name);
          lineAdd(", which ");
          lineAdd(pager.entry.name);
          lineAdd(" needs, is done");
          linePrint();
          this.startAll();
          return;
        }
      }
    }
  }

  /** Whether paging runs (KERNEL_SET_PAGER took the channel). */
  private pagingOn: bool = false;

  /**
   * The pager has started: the kernel is told to page through its channel, with a store of
   * `pages` pages, paid from init's Memory (whose quota, and its ancestors', grows by the store),
   * sending the pager up to `batch` pages a message.
   * Said in the log either way; a failure leaves the machine without paging, nothing worse.
   */
  private startPaging(pages: u32, policy: i32, batch: u32): i32 {
    const h = this.holds;
    // Init restarts the pager: it must never wait for a page-in itself.
    msgBegin(OP_KERNEL_SET_PIN);
    msgAddWord(PIN_PINNED);
    msgAddCap(SLOT_SELF);
    let status = msgInvoke(h.kernel);
    const send = status < 0 ? status : mint(h.pagerChannel, 0, RIGHT_RECEIVER_SEND);
    status = send;
    if (send > 0) {
      msgBegin(OP_KERNEL_SET_PAGER);
      msgAddWord(pages);
      msgAddWord(batch);
      msgAddCap(<u32>send | CAP_MOVE);
      msgAddCap(<u32>h.memory);
      status = msgInvoke(h.kernel);
    }
    lineBegin("init: paging through the pager, a store of ");
    lineAddU32(pages);
    lineAdd(" pages");
    if (status < 0) {
      lineAdd(": refused, ");
      lineAdd(errorName(status));
    } else this.pagingOn = true;
    if (this.pagingOn && policy >= 0) {
      msgBegin(OP_KERNEL_SET_PAGING);
      msgAddWord(<u32>policy);
      const chosen = msgInvoke(h.kernel);
      lineAdd(chosen < 0 ? "; the eviction policy was refused: " + errorName(chosen) : policy == 0 ? ", evicting by clock" : ", evicting by aging");
    }
    linePrint();
    return status < 0 ? status : 0;
  }

  /** Gives one of the grants without a value (kernel, kernel-info, images, bootinfo, control): "" or the failed step. */
  private givePlain(s: Service, kind: i32): string {
    const h = this.holds;
    let cap: i32;
    if (kind == GRANT_KERNEL) cap = capCopy(h.kernel, RIGHT_KERNEL_INSPECT);
    else if (kind == GRANT_KERNEL_INFO) cap = capCopy(h.kernel, 0);
    else if (kind == GRANT_IMAGES) cap = capCopy(h.images, RIGHT_CAPPAGE_READ);
    else if (kind == GRANT_BOOT_INFO) cap = capCopy(h.bootInfo, RIGHT_REGION_READ);
    else cap = mint(h.control, s.badge, RIGHT_RECEIVER_CALL);
    const what = kind == GRANT_KERNEL || kind == GRANT_KERNEL_INFO ? "kernel" : kind == GRANT_IMAGES ? "images" : kind == GRANT_BOOT_INFO ? "bootinfo" : "control";
    if (!this.check(s, cap)) return "copy its " + what + " capability";
    if (!this.give(s, <u32>cap | CAP_MOVE)) return "give it its " + what + " capability";
    return "";
  }

  /**
   * Halting (docs/BOOT.md "Halting"): stops every service, none restarted, in this order: the
   * session (its jobs die with its Memory), the other services, the last started first; then those
   * that asked to finish first (CONTROL_ON_HALT: the file system commits), each told and waited
   * for; then the drivers; the registry last. Answers how many were running.
   */
  stopAll(): i32 {
    let stopped = 0;
    for (let phase = 0; phase < 5; phase++) {
      for (let i = this.services.length - 1; i >= 0; i--) {
        const s = unchecked(this.services[i]);
        if (phaseOf(s) != phase) continue;
        s.restartAt = -1;
        s.stopped = true;
        if (s.pid == 0) {
          this.release(s);
          continue;
        }
        stopped++;
        if (phase == PHASE_FINISH) this.finish(s);
        this.release(s);
      }
    }
    return stopped;
  }

  /**
   * A `supervise` line (badge) asks to kill (0), suspend (1) or resume (2) the service running as
   * `pid`, with init's own capability to it: 0, E_MISSING_RIGHT for a line without `supervise`,
   * E_NO_PROCESS when no service of init's runs as `pid` (init holds nothing else; pid 1 is itself,
   * and halting is HALT's), or what the kernel answers. A killed service is restarted as any that ends.
   */
  supervise(badge: u32, what: u32, pid: u32): i32 {
    if (badge == 0 || badge > <u32>this.services.length || !unchecked(this.services[badge - 1]).entry.supervise) return E_MISSING_RIGHT;
    for (let i = 0; i < this.services.length; i++) {
      const s = unchecked(this.services[i]);
      if (s.pid == 0 || s.pid != pid || s.process == 0) continue;
      msgBegin(what == 0 ? OP_PROCESS_KILL : what == 1 ? OP_PROCESS_SUSPEND : OP_PROCESS_RESUME);
      const status = msgInvoke(s.process);
      lineBegin("init: ");
      lineAdd(what == 0 ? "kill" : what == 1 ? "suspend" : "resume");
      lineAdd(" ");
      lineAdd(s.entry.name);
      lineAdd(" (pid ");
      lineAddU32(pid);
      lineAdd(") asked by ");
      lineAdd(this.nameOf(badge));
      if (status < 0) {
        lineAdd(": ");
        lineAdd(errorName(status));
      }
      linePrint();
      return status < 0 ? status : 0;
    }
    return E_NO_PROCESS;
  }

  /** CONTROL_ON_HALT from the service with `badge`: cap 0 (moved here, at `cap`) is how to tell it. */
  onHalt(badge: u32, cap: i32): i32 {
    if (badge == 0 || badge > <u32>this.services.length || cap <= 0) return E_MISSING_RIGHT;
    const s = unchecked(this.services[badge - 1]);
    if (s.onHalt != 0) capDrop(s.onHalt);
    s.onHalt = cap;
    return 0;
  }

  /** Tells `s` to finish and waits for it (FINISH_WAIT_NS at most), saying how it went. */
  private finish(s: Service): void {
    msgBegin(CONTROL_FINISH);
    const sent = msgInvoke(s.onHalt);
    let done = false;
    if (sent >= 0) {
      const control = new Receiver(this.holds.control);
      const deadline = now() + FINISH_WAIT_NS;
      for (let t = now(); t < deadline; t = now()) {
        if (control.receive(<u64>(deadline - t)) < 0) break;
        const replyCap = msgReply();
        const finished = msgLabel() == CONTROL_FINISHED && msgBadge() == s.badge;
        msgBegin(finished ? 0 : <u32>-E_NOT_READY); // halting: nothing else is done now
        if (replyCap != 0) reply(replyCap);
        if (finished) {
          done = true;
          break;
        }
      }
    }
    lineBegin("init: halting: asked ");
    lineAdd(s.entry.name);
    lineAdd(done ? " to finish; it has" : sent < 0 ? " to finish: " + errorName(sent) : " to finish; no answer within 5 s, stopping it anyway");
    linePrint();
    capDrop(s.onHalt);
    s.onHalt = 0;
  }

  /** The name of the service with `badge` (the control capability's), or "?". */
  nameOf(badge: u32): string {
    return badge >= 1 && badge <= <u32>this.services.length ? unchecked(this.services[badge - 1]).entry.name : "?";
  }

  /** Makes the registry's table (a Cappage, three shared Pages) once; without it the registry keeps its own. */
  private keepRegistryTable(): void {
    if (this.registryCaps != 0) return;
    msgBegin(OP_MEMORY_CREATE_CAPPAGE);
    if (msgInvoke(this.holds.memory) < 0) return;
    const caps = msgCap(0);
    for (let p = 0; p < 3; p++) {
      msgBegin(OP_MEMORY_CREATE_PAGE);
      const made = msgInvoke(this.holds.memory);
      const page = made < 0 ? 0 : msgCap(0);
      // Shared: a registry that is restarted maps it while its predecessor's mapping may linger.
      if (page == 0 || new Page(page).setFlags(PAGE_SHARED) < 0) {
        lineBegin("init: cannot make the registry's table: ");
        lineAdd(errorName(made < 0 ? made : E_NOT_READY));
        lineAdd("; a restarted registry starts empty");
        linePrint(STDOUT, true);
        return;
      }
      unchecked((this.registryNames[p] = page));
    }
    this.registryCaps = caps;
  }

  /** A new Cappage holding each boot module's Image with no rights (IMAGE_MAP needs none): its slot, or 0. */
  private imagesToMap(): i32 {
    msgBegin(OP_MEMORY_CREATE_CAPPAGE);
    if (msgInvoke(this.holds.memory) < 0) return 0;
    const page = msgCap(0);
    for (let slot: u32 = 0; slot < <u32>CAPPAGE_SLOTS; slot++) {
      msgBegin(OP_CAPPAGE_GET);
      msgAddWord(slot);
      if (msgInvoke(this.holds.images) < 0) break; // past the last module
      const image = msgCap(0);
      const bare = capCopy(image, 0);
      capDrop(image);
      if (bare <= 0) break;
      msgBegin(OP_CAPPAGE_PUT);
      msgAddWord(slot);
      msgAddCap(<u32>bare | CAP_MOVE);
      msgInvoke(page);
    }
    return page;
  }

  /** A copy of Cappage slot `slot` (a positive capability), or 0 with the status kept. */
  private capFrom(s: Service, cappage: i32, slot: u32): i32 {
    msgBegin(OP_CAPPAGE_GET);
    msgAddWord(slot);
    return this.check(s, msgInvoke(cappage)) ? msgCap(0) : 0;
  }

  private give(s: Service, cap: u32): bool {
    msgBegin(OP_PROCESS_GIVE);
    msgAddCap(cap);
    return this.check(s, msgInvoke(s.process));
  }

  /** True when `status` is not an error; else keeps it as the reason the start failed. */
  private check(s: Service, status: i32): bool {
    if (status >= 0) return true;
    s.ending.status = status;
    return false;
  }

  /** Lets go of an attempt: the process (killed if it still runs) and the Memory it lived in. */
  private release(s: Service): void {
    s.pid = 0; // a notice of this attempt's end, if one comes, is stale now
    if (s.process != 0) {
      msgBegin(OP_PROCESS_KILL);
      msgInvoke(s.process); // E_... once it has ended: nothing to do
      capDrop(s.process);
      s.process = 0;
    }
    if (s.memory != 0) {
      msgBegin(OP_MEMORY_DESTROY);
      msgInvoke(s.memory);
      capDrop(s.memory);
      s.memory = 0;
    }
  }

  /** Counts a failure (the log line is begun) and either schedules a restart or gives up. */
  private failed(s: Service): void {
    const t = now();
    unchecked((s.failureTimes[s.failures % MAX_FAILURES] = t));
    s.failures++;
    // The ring holds the last MAX_FAILURES failures; the oldest of them is the next slot.
    const oldest = unchecked(s.failureTimes[s.failures % MAX_FAILURES]);
    s.shortRuns++;
    const fast = s.failures >= MAX_FAILURES && t - oldest <= FAILURE_WINDOW_NS;
    if (fast || s.shortRuns >= MAX_FAILURES) {
      s.stopped = true;
      lineAdd("; giving up: ");
      lineAddI32(MAX_FAILURES);
      lineAdd(fast ? " failures within " : " failures in a row, none of them up for ");
      lineAddI64(FAILURE_WINDOW_NS / 1_000_000_000);
      lineAdd(" s");
      linePrint(STDOUT, true);
      this.goOnWithoutPager(s);
      // Without its session nobody can use the machine, or halt it: halt it now, saying why.
      if (s.entry.session) this.sessionLost = s.entry.name;
      return;
    }
    s.restartAt = t + s.backoffNs;
    lineAdd("; restarting in ");
    lineAddI64(s.backoffNs / 1_000_000);
    lineAdd(" ms");
    linePrint(STDOUT, true);
    s.backoffNs = min(s.backoffNs * 2, BACKOFF_MAX_NS);
  }
}

const PHASE_SESSION: i32 = 0;
const PHASE_SERVICES: i32 = 1;
const PHASE_FINISH: i32 = 2;
const PHASE_DRIVERS: i32 = 3;
const PHASE_REGISTRY: i32 = 4;

/** When a halt stops `s` (stopAll). */
function phaseOf(s: Service): i32 {
  if (s.entry.isRegistry) return PHASE_REGISTRY;
  if (s.entry.session) return PHASE_SESSION;
  if (s.onHalt != 0 && s.pid != 0) return PHASE_FINISH;
  if (s.entry.kind == "driver") return PHASE_DRIVERS;
  return PHASE_SERVICES;
}

/** A send or call capability to `receiver` with `badge` (Receiver.mint without the object). */
function mint(receiver: i32, badge: u32, rights: u32): i32 {
  msgBegin(OP_RECEIVER_MINT);
  msgAddWord(badge);
  msgAddWord(rights);
  const status = msgInvoke(receiver);
  return status < 0 ? status : msgCap(0);
}

/** Appends how an attempt ended to the log line: "faulted: null-page at 0x0", "exited with code 3"... */
function describeEnding(e: Ending): void {
  if (e.failedStep.length > 0) {
    lineAdd(e.failedStep);
    lineAdd(": ");
    lineAdd(errorName(e.status));
    return;
  }
  if (e.state == STATE_FAULTED) {
    lineAdd("faulted: ");
    lineAdd(faultKindName(e.faultKind));
    if (e.faultAddress != NONE) {
      lineAdd(" at ");
      lineAddHex(e.faultAddress);
    }
    return;
  }
  if (e.state == STATE_EXITED && e.exitCode == KILLED_EXIT_CODE) {
    lineAdd("was killed (exit code 137)");
    return;
  }
  if (e.state == STATE_EXITED) {
    lineAdd("exited with code ");
    lineAddI32(e.exitCode);
    return;
  }
  lineAdd("ended, ");
  lineAdd(stateName(e.state));
}

/** A read-only capability to slot `slot` of shared Cappage `page` alone, for a `read=` (1) or `swap=` (2) grant: its index, or a status. */
function slotWindow(page: i32, slot: u32): i32 {
  const readOnly = capCopy(page, RIGHT_CAPPAGE_READ);
  if (readOnly <= 0) return readOnly;
  const window = new Cappage(readOnly).narrow(slot, 1);
  capDrop(readOnly);
  return window;
}
