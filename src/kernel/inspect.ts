import type { Capability } from "./caps/capability.ts";
import { DeviceObject } from "./caps/device-object.ts";
import { ImageObject } from "./caps/image-object.ts";
import { InterruptObject } from "./caps/interrupt.ts";
import type { KernelObject } from "./caps/kernel-object.ts";
import { MemoryObject } from "./caps/memory-object.ts";
import { ObjectKind, Rights } from "./caps/object-abi.ts";
import { Receiver } from "./caps/receiver.ts";
import { RegionObject } from "./caps/region.ts";
import { FRAME_OBJECT } from "./caps/shared-frames.ts";
import { hex } from "./fault.ts";
import { FRAME_FREE, FRAME_KERNEL } from "./frame-allocator.ts";
import type { IpcObserver, SchedulerObserver } from "./inspect-hooks.ts";
import type { Kernel } from "./kernel.ts";
import { describeProcessFault } from "./kernel.ts";
import type { Process } from "./process.ts";

/**
 * The kernel as the live views see it (a browser host's processes, capabilities, frames, IPC and
 * timeline panes): plain data made from the kernel's tables, never its objects. Reading changes
 * nothing; watching (`watch(true)`) installs the scheduler's and IPC's observers, which count
 * switches and messages until `watch(false)`.
 */

/** One process: live, or ended since the last `processes()` (then `end` says how). */
export interface ProcessView {
  readonly pid: number;
  readonly ppid: number;
  readonly name: string;
  /** ready, running, blocked, suspended, created; exited or faulted once ended. */
  readonly state: string;
  readonly priority: number;
  readonly cpuMicros: number;
  /** Pages it holds: resident private pages and its fixed cost (PROCESS_STATE's `pages`). */
  readonly pages: number;
  readonly pagedOut: number;
  /** Faults so far: those its fault handler repaired, and the one that ended it. */
  readonly faults: number;
  /** Pages brought back from the pager for it so far. */
  readonly pageIns: number;
  readonly memory: number;
  readonly capabilities: number;
  /** How it ended ("exited with code 0", "killed", "faulted: …"); null while it lives. */
  readonly end: string | null;
}

export interface CapabilityView {
  readonly slot: number;
  readonly kind: string;
  readonly rights: number;
  readonly badge: number;
  /** What it names, for a person: "process 7 (shell)", "Receiver #4 of pid 3 (registry)". */
  readonly object: string;
}

/** What a physical frame holds, one code per frame in FrameMapView.kinds. */
export const FrameKind = { FREE: 0, KERNEL: 1, OBJECT: 2, COPY_ON_WRITE: 3, PRIVATE: 4 } as const;

export interface FrameMapView {
  /** FrameKind per frame. */
  readonly kinds: Uint8Array;
  /** The owning pid of each PRIVATE frame (0 for the others). */
  readonly owners: Int32Array;
  /** Pages of live processes that are paged out (in the pager's store, no frame). */
  readonly pagedOut: number;
}

/** Messages `from` sent (or called) to a Receiver that `to` receives on, since watching began. */
export interface IpcEdgeView {
  readonly from: number;
  readonly to: number;
  readonly fromName: string;
  readonly toName: string;
  readonly calls: number;
  readonly sends: number;
}

/** CPU time per pid (0: the kernel, idle or between slices) in one bucket of the timeline. */
export interface TimelineBucket {
  readonly startNs: number;
  readonly shares: ReadonlyArray<readonly [pid: number, ns: number]>;
  /** False for the bucket still in progress (the last one): a later read has more of it. */
  readonly complete: boolean;
}

/** The timeline's resolution: CPU time is summed per process per bucket. */
export const TIMELINE_BUCKET_NS = 20_000_000;
/** Buckets kept for a reader that lags (10 s). */
const TIMELINE_KEPT = 500;
/** Ended processes kept for the views. */
const ENDED_KEPT = 64;
/** Names of pids remembered for the IPC view. */
const NAMES_KEPT = 4096;

const KIND_NAMES = Object.fromEntries(Object.entries(ObjectKind).map(([name, code]) => [code, name.toLowerCase().replace(/_/g, "-")])) as Record<number, string>;

export class KernelInspector {
  private readonly kernel: Kernel;
  private readonly timeline = new TimelineRecorder();
  private readonly traffic = new TrafficCounter();
  /** Processes that ended while watching, newest last (at most ENDED_KEPT). */
  private readonly ended: ProcessView[] = [];
  private readonly names = new Map<number, string>();
  private readonly nameRing = new Int32Array(NAMES_KEPT);
  private nameNext = 0;
  /** Stable numbers for objects that have no id of their own (Receivers), for this inspector's life. */
  private readonly numbers = new WeakMap<KernelObject, number>();
  private nextNumber = 1;
  private watching = false;

  constructor(kernel: Kernel) {
    this.kernel = kernel;
  }

  /** Starts or stops counting switches and messages (the observers cost nothing when stopped). */
  watch(on: boolean): void {
    if (on === this.watching) return;
    this.watching = on;
    const scheduler = this.kernel.scheduler;
    if (on) {
      const timeline = this.timeline;
      const observer: SchedulerObserver = {
        running: (process, atNs) => timeline.switchTo(process ? process.pid : 0, atNs),
        ended: (process) => this.remember(process),
      };
      scheduler.observer = observer;
      this.kernel.ipc.observer = this.traffic;
      this.timeline.resume(scheduler.current?.pid ?? 0, this.kernel.clock.monotonicNs());
    } else {
      scheduler.observer = null;
      this.kernel.ipc.observer = null;
    }
  }

  get isWatching(): boolean {
    return this.watching;
  }

  /** Live processes by pid, and the last ENDED_KEPT that ended while watching (newest last). */
  processes(): { live: ProcessView[]; ended: ProcessView[] } {
    const live: ProcessView[] = [];
    for (const process of this.kernel.processes.values()) {
      if (!process.alive) continue;
      live.push(this.view(process));
    }
    live.sort((a, b) => a.pid - b.pid);
    return { live, ended: [...this.ended] };
  }

  private remember(process: Process): void {
    // Names are only for the IPC view's ended peers (live ones are looked up), the oldest going
    // first through a ring of pids. Kept here, not on every view: with 100,000 processes that made
    // ps quadratic (each delete of a Map's oldest key leaves a hole the next search walks over).
    const oldest = this.nameRing[this.nameNext]!;
    if (oldest !== 0) this.names.delete(oldest);
    this.nameRing[this.nameNext] = process.pid;
    this.nameNext = (this.nameNext + 1) % NAMES_KEPT;
    this.names.set(process.pid, process.image.name);
    this.ended.push(this.view(process));
    if (this.ended.length > ENDED_KEPT) this.ended.shift();
  }

  /** The capability table of live process `pid`, or null when there is none. */
  capabilities(pid: number): CapabilityView[] | null {
    const process = this.kernel.processes.get(pid);
    if (!process || !process.alive) return null;
    return [...process.caps.entries()].map(([slot, cap]) => ({
      slot,
      kind: KIND_NAMES[cap.object.kind] ?? `kind ${cap.object.kind}`,
      rights: cap.rights,
      badge: cap.badge,
      object: this.describe(cap),
    }));
  }

  /** Every physical frame's kind and, for a private frame, its owner. */
  frameMap(): FrameMapView {
    const frames = this.kernel.frames;
    const shared = this.kernel.services.sharedFrames;
    const kinds = new Uint8Array(frames.frameCount);
    const owners = new Int32Array(frames.frameCount);
    for (let frame = 0; frame < frames.frameCount; frame++) {
      const owner = frames.owner(frame);
      if (owner === FRAME_FREE) continue;
      if (owner === FRAME_KERNEL) kinds[frame] = FrameKind.KERNEL;
      else if (owner === FRAME_OBJECT) kinds[frame] = shared.holders(frame) > 1 ? FrameKind.COPY_ON_WRITE : FrameKind.OBJECT;
      else {
        kinds[frame] = FrameKind.PRIVATE;
        owners[frame] = owner;
      }
    }
    let pagedOut = 0;
    for (const process of this.kernel.processes.values()) if (process.alive) pagedOut += process.space.pagedOutPages;
    return { kinds, owners, pagedOut };
  }

  /** Who sent to whom since watching began, busiest first. */
  ipc(): IpcEdgeView[] {
    this.traffic.fold();
    const edges = new Map<string, { from: number; to: number; calls: number; sends: number }>();
    for (const [receiver, counts] of this.traffic.counts) {
      const to = this.holderOf(receiver) ?? 0;
      for (const [key, count] of counts) {
        const from = key >>> 1;
        const id = `${from}>${to}`;
        const edge = edges.get(id) ?? { from, to, calls: 0, sends: 0 };
        if (key & 1) edge.calls += count;
        else edge.sends += count;
        edges.set(id, edge);
      }
      // A Receiver that is gone is counted under "to 0" from now on; forget the object.
      if (receiver.destroyed) this.traffic.forget(receiver, counts);
    }
    for (const [key, count] of this.traffic.gone) {
      const from = key >>> 1;
      const edge = edges.get(`${from}>0`) ?? { from, to: 0, calls: 0, sends: 0 };
      if (key & 1) edge.calls += count;
      else edge.sends += count;
      edges.set(`${from}>0`, edge);
    }
    return [...edges.values()]
      .map((edge) => ({ ...edge, fromName: this.nameOf(edge.from), toName: this.nameOf(edge.to) }))
      .sort((a, b) => b.calls + b.sends - (a.calls + a.sends));
  }

  /** Timeline buckets that end after `afterNs`, oldest first, the one in progress last. */
  timelineSince(afterNs: number): TimelineBucket[] {
    this.timeline.closeBuckets(this.kernel.clock.monotonicNs());
    return this.timeline.since(afterNs);
  }

  private view(process: Process): ProcessView {
    const d = process.descriptor;
    const alive = process.alive;
    return {
      pid: process.pid,
      ppid: d.ppid,
      name: process.image.name,
      state: alive && process.suspended ? "suspended" : d.state,
      priority: d.priority,
      cpuMicros: Math.floor(d.cpuTimeUs),
      pages: alive ? process.space.residentPages + process.chargedPages : 0,
      pagedOut: alive ? process.space.pagedOutPages : 0,
      faults: process.faultHandler.handled + (process.fault ? 1 : 0),
      pageIns: process.pageIns,
      memory: process.memory.id,
      capabilities: alive ? process.caps.size : 0,
      end: alive ? null : endOf(process),
    };
  }

  private nameOf(pid: number): string {
    if (pid === 0) return "kernel";
    return this.kernel.processes.get(pid)?.image.name ?? this.names.get(pid) ?? "ended";
  }

  /**
   * The pid of a live process that may receive on `receiver` (Receiver.receivedBy, kept as
   * capabilities come and go: the latest to take one), or undefined when none does. Only when the
   * one it knew let its capability go does this look among every process, once.
   */
  private holderOf(receiver: Receiver): number | undefined {
    if (receiver.receivedByLost) {
      receiver.receivedByLost = false;
      receiver.receivedBy = null;
      // The youngest holder, as the latest to take one would have been.
      for (const process of this.kernel.processes.values()) {
        if (!process.alive) continue;
        for (const [, cap] of process.caps.entries()) if (cap.object === receiver && cap.has(Rights.RECEIVER_RECEIVE)) receiver.receivedBy = process;
      }
    }
    const holder = receiver.receivedBy;
    return holder !== null && holder.alive ? holder.pid : undefined;
  }

  private numberOf(object: KernelObject): number {
    let n = this.numbers.get(object);
    if (n === undefined) {
      n = this.nextNumber++;
      this.numbers.set(object, n);
    }
    return n;
  }

  private describe(cap: Capability): string {
    const object = cap.object;
    const gone = object.destroyed ? " (destroyed)" : "";
    if (object.kind === ObjectKind.PROCESS) {
      const process = object as Process;
      return `process ${process.pid} (${process.image.name})${process.alive ? "" : ", ended"}`;
    }
    if (object instanceof Receiver) {
      const holder = this.holderOf(object);
      const of = holder === undefined ? "nobody receives" : `received by ${holder} (${this.nameOf(holder)})`;
      return `Receiver #${this.numberOf(object)}, ${of}, ${object.queued}/${object.capacity} queued${gone}`;
    }
    if (object instanceof MemoryObject) return `Memory ${object.id}: ${object.used}/${object.quota === Infinity ? "∞" : object.quota} pages${gone}`;
    if (object instanceof RegionObject) return `Region at ${hex(object.address)}${gone}`;
    if (object instanceof ImageObject) return `Image of ${object.name} at ${hex(object.globalAddress)}${gone}`;
    if (object instanceof DeviceObject) return `device ${object.device.name} (line ${object.device.line})`;
    if (object instanceof InterruptObject) return `interrupt line ${object.line}${object.armed ? ", armed" : ""}`;
    return `${KIND_NAMES[object.kind] ?? "object"} #${this.numberOf(object)}${gone}`;
  }
}

function endOf(process: Process): string {
  const outcome = process.outcome;
  if (!outcome) return "ended";
  if (outcome.kind === "faulted") return `faulted: ${describeProcessFault(process)}`;
  if (outcome.code === 137) return "killed (exit code 137)";
  return `exited with code ${outcome.code}`;
}

/** Switches or messages an observer records before it folds them into its tables. */
const RING = 4096;

/**
 * Sums CPU time per pid into fixed buckets. A switch costs two stores into a ring (the switch
 * itself is a few hundred nanoseconds of JSPI); the ring is folded into the buckets when it fills
 * and when read, so a reader gets at most TIMELINE_KEPT buckets whatever the switch rate.
 */
class TimelineRecorder {
  private pid = 0;
  private sinceNs = 0;
  private bucketStart = -1;
  private shares = new Map<number, number>();
  private readonly done: TimelineBucket[] = [];
  private readonly ringPids = new Int32Array(RING);
  private readonly ringTimes = new Float64Array(RING);
  private recorded = 0;

  switchTo(pid: number, atNs: number): void {
    this.ringPids[this.recorded] = pid;
    this.ringTimes[this.recorded] = atNs;
    if (++this.recorded === RING) this.fold();
  }

  /**
   * Watching again after a pause: nothing was seen in between, so nothing is charged for it; the
   * bucket in progress when watching stopped is kept as it was, and counting goes on from `atNs`.
   */
  resume(pid: number, atNs: number): void {
    this.fold();
    const bucket = Math.floor(atNs / TIMELINE_BUCKET_NS) * TIMELINE_BUCKET_NS;
    if (this.bucketStart >= 0 && bucket > this.bucketStart) {
      this.done.push({ startNs: this.bucketStart, shares: [...this.shares], complete: true });
      if (this.done.length > TIMELINE_KEPT) this.done.shift();
      this.shares = new Map();
    }
    if (this.bucketStart < bucket) this.bucketStart = bucket;
    this.sinceNs = atNs;
    this.pid = pid;
  }

  /** Ends the buckets that `nowNs` is past, charging the running pid up to it. */
  closeBuckets(nowNs: number): void {
    this.fold();
    this.account(nowNs);
  }

  private fold(): void {
    for (let i = 0; i < this.recorded; i++) {
      this.account(this.ringTimes[i]!);
      this.pid = this.ringPids[i]!;
    }
    this.recorded = 0;
  }

  since(afterNs: number): TimelineBucket[] {
    const done = this.done.filter((bucket) => bucket.startNs + TIMELINE_BUCKET_NS > afterNs);
    return this.bucketStart < 0 ? done : [...done, { startNs: this.bucketStart, shares: [...this.shares], complete: false }];
  }

  private account(atNs: number): void {
    if (this.bucketStart < 0) {
      this.bucketStart = Math.floor(atNs / TIMELINE_BUCKET_NS) * TIMELINE_BUCKET_NS;
      this.sinceNs = atNs;
    }
    while (atNs >= this.bucketStart + TIMELINE_BUCKET_NS) {
      const end = this.bucketStart + TIMELINE_BUCKET_NS;
      this.charge(end - this.sinceNs);
      this.sinceNs = end;
      this.done.push({ startNs: this.bucketStart, shares: [...this.shares], complete: true });
      if (this.done.length > TIMELINE_KEPT) this.done.shift();
      this.shares = new Map();
      this.bucketStart = end;
    }
    this.charge(atNs - this.sinceNs);
    this.sinceNs = atNs;
  }

  private charge(ns: number): void {
    if (ns <= 0) return;
    this.shares.set(this.pid, (this.shares.get(this.pid) ?? 0) + ns);
  }
}

/** Messages per Receiver per sender (key: pid × 2, + 1 for a call), recorded in a ring and folded as the timeline's are. */
class TrafficCounter implements IpcObserver {
  readonly counts = new Map<Receiver, Map<number, number>>();
  private readonly ringKeys = new Int32Array(RING);
  private readonly ringReceivers: Array<Receiver | null> = new Array<Receiver | null>(RING).fill(null);
  private recorded = 0;

  message(from: Process | null, to: Receiver, call: boolean): void {
    this.ringKeys[this.recorded] = (from ? from.pid : 0) * 2 + (call ? 1 : 0);
    this.ringReceivers[this.recorded] = to;
    if (++this.recorded === RING) this.fold();
  }

  fold(): void {
    for (let i = 0; i < this.recorded; i++) {
      const to = this.ringReceivers[i]!;
      this.ringReceivers[i] = null;
      let counts = this.counts.get(to);
      if (!counts) this.counts.set(to, (counts = new Map()));
      const key = this.ringKeys[i]!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    this.recorded = 0;
  }
  /** Counts of messages to Receivers that are gone, by the same key. */
  readonly gone = new Map<number, number>();

  /** Folds a gone Receiver's counts into `gone`, so the object itself can be collected. */
  forget(receiver: Receiver, counts: Map<number, number>): void {
    this.counts.delete(receiver);
    for (const [key, count] of counts) this.gone.set(key, (this.gone.get(key) ?? 0) + count);
  }
}
