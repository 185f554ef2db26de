import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { PAGE_SIZE } from "./constants.ts";

/**
 * The fixed part of a process's descriptor, kept in a slot of the kernel's process table
 * (descriptor-table.ts: kernel frames never mapped to any process), as a real kernel keeps it:
 * pid, parent, state, exit code, priority, fault kind and address, CPU time. Strings (name, fault
 * message) stay with the Process object.
 */
/** Index = the code PROCESS_STATE reports (docs/ABI.md). */
export const PROCESS_STATES = ["ready", "running", "blocked", "exited", "faulted", "created", "suspended"] as const;
export type ProcessState = (typeof PROCESS_STATES)[number];
/** State → code, set on every switch (a search of PROCESS_STATES there would be waste). */
const STATE_CODES = Object.fromEntries(PROCESS_STATES.map((state, code) => [state, code])) as Record<ProcessState, number>;

const PID = 0;
const PPID = 1;
const STATE = 2;
const EXIT_CODE = 3;
const PRIORITY = 4;
const FAULT_ADDRESS = 5;
/** CPU time in microseconds, as a float64 over words 6 and 7. */
const CPU_TIME_US = 6;
const DESCRIPTOR_WORDS = 8;
/** A descriptor's slot in the process table. */
export const DESCRIPTOR_BYTES = DESCRIPTOR_WORDS * 4;

/** Detached descriptors share chunks of this many (a chunk lives while any of its descriptors does). */
const DETACHED_PER_CHUNK = 128;
let detached: { words: Int32Array; floats: Float64Array; next: number } | null = null;

export class ProcessDescriptor {
  /** Physical byte address of its slot (8-byte aligned). */
  readonly address: number;
  private words: Int32Array;
  private floats: Float64Array;
  private base: number;

  constructor(memory: PhysicalMemory, address: number, pid: number, ppid: number, priority: number) {
    this.address = address;
    this.words = memory.words;
    this.floats = memory.floats;
    this.base = address >>> 2;
    this.words.fill(0, this.base, this.base + DESCRIPTOR_WORDS);
    this.words[this.base + PID] = pid;
    this.words[this.base + PPID] = ppid;
    this.state = "ready";
    this.priority = priority;
    this.faultAddress = -1;
  }

  /** The frame its slot is in. */
  get frame(): number {
    return Math.floor(this.address / PAGE_SIZE);
  }

  /**
   * Moves the descriptor out of its slot into kernel heap memory, so that the slot can be freed
   * when the process ends while capabilities to it can still read its state. The copies share
   * chunks of heap memory, DETACHED_PER_CHUNK to a chunk: two typed arrays made per process that
   * ends cost 20 µs each with 20,000 processes live (the engine's accounting of off-heap memory).
   */
  detach(): void {
    if (detached === null || detached.next === DETACHED_PER_CHUNK) {
      const buffer = new ArrayBuffer(DETACHED_PER_CHUNK * DESCRIPTOR_BYTES);
      detached = { words: new Int32Array(buffer), floats: new Float64Array(buffer), next: 0 };
    }
    const base = detached.next++ * DESCRIPTOR_WORDS;
    detached.words.set(this.words.subarray(this.base, this.base + DESCRIPTOR_WORDS), base);
    this.words = detached.words;
    this.floats = detached.floats;
    this.base = base;
  }

  get pid(): number {
    return this.words[this.base + PID]!;
  }
  get ppid(): number {
    return this.words[this.base + PPID]!;
  }
  get state(): ProcessState {
    return PROCESS_STATES[this.words[this.base + STATE]!]!;
  }
  set state(state: ProcessState) {
    this.words[this.base + STATE] = STATE_CODES[state];
  }
  get exitCode(): number {
    return this.words[this.base + EXIT_CODE]!;
  }
  set exitCode(code: number) {
    this.words[this.base + EXIT_CODE] = code;
  }
  get priority(): number {
    return this.words[this.base + PRIORITY]!;
  }
  set priority(priority: number) {
    this.words[this.base + PRIORITY] = priority;
  }
  /** -1 when the fault had no address. */
  get faultAddress(): number {
    return this.words[this.base + FAULT_ADDRESS]!;
  }
  set faultAddress(address: number) {
    this.words[this.base + FAULT_ADDRESS] = address;
  }
  get cpuTimeUs(): number {
    return this.floats[(this.base + CPU_TIME_US) >>> 1]!;
  }
  addCpuTime(microseconds: number): void {
    this.floats[(this.base + CPU_TIME_US) >>> 1]! += microseconds;
  }
}
