/**
 * The messages between the page (terminal, views, disk controls) and the worker that runs the
 * machine. Everything crosses by structured clone: bytes, Files and FileSystemHandles included.
 */
import type { CapabilityView, FrameMapView, IpcEdgeView, ProcessView, TimelineBucket } from "../../kernel/inspect.ts";
import type { PanelOperation } from "../../machine/devices/panel.ts";

/** Where the disk lives: OPFS (the default), IndexedDB, or memory only (lost on reload). */
export type DiskStore = "opfs" | "idb" | "memory";

export interface BootRequest {
  readonly kind: "boot";
  /** Where the boot modules and the config are (the built page's boot/ folder). */
  readonly bootBase: string;
  readonly store: DiskStore;
  /** Before opening: replace the disk with these bytes (an uploaded image), or wipe its superblock (format). */
  readonly replaceWith?: ArrayBuffer;
  readonly format?: boolean;
  /** Keep rewritten modules in Cache Storage (default true). */
  readonly cache: boolean;
  readonly memoryBytes: number;
}

/** Something the user gave the page for /host: a picked or dropped folder, or a dropped file. */
export type GivenEntry = { readonly name: string; readonly file: File } | { readonly name: string; readonly directory: FileSystemDirectoryHandle };

export type PageMessage =
  | BootRequest
  | { readonly kind: "input"; readonly bytes: Uint8Array }
  | { readonly kind: "give"; readonly entries: readonly GivenEntry[] }
  | { readonly kind: "check-binary"; readonly name: string; readonly bytes: ArrayBuffer }
  | { readonly kind: "views"; readonly on: boolean }
  | { readonly kind: "snapshot"; readonly capsOf: number | null; readonly timelineAfterNs: number }
  | { readonly kind: "panel"; readonly id: number; readonly operation: PanelOperation; readonly pid: number }
  | { readonly kind: "download-disk" }
  /** Presses the power controller's button: process 1 halts the machine cleanly. */
  | { readonly kind: "halt" }
  | { readonly kind: "shutdown" };

/** What the views get, each time they ask. */
export interface Snapshot {
  readonly atNs: number;
  readonly live: ProcessView[];
  readonly ended: ProcessView[];
  readonly caps: { readonly pid: number; readonly table: CapabilityView[] | null } | null;
  readonly frames: FrameMapView;
  readonly ipc: IpcEdgeView[];
  readonly timeline: TimelineBucket[];
}

export type WorkerMessage =
  /** The worker's code has loaded and it listens: messages sent before this could be lost (a module worker with top-level await). */
  | { readonly kind: "ready" }
  | { readonly kind: "output"; readonly stream: 1 | 2; readonly bytes: Uint8Array }
  /** A line about the machine (boot progress, the host's own messages), not the console's. */
  | { readonly kind: "status"; readonly text: string }
  | { readonly kind: "disk"; readonly store: DiskStore; readonly bytes: number; readonly fresh: boolean; readonly note: string | null }
  /** The disk holds something that is not a Dogma file system: not booted, the page offers to format. */
  | { readonly kind: "disk-refused"; readonly reason: string }
  /** Process 1 started: how its modules were had, how long fetching the boot files and then loading them took. */
  | { readonly kind: "booted"; readonly cachedModules: number; readonly rewrittenModules: number; readonly fetchMs: number; readonly loadMs: number }
  | { readonly kind: "prompt-ready" }
  | { readonly kind: "ended"; readonly reason: string; readonly halted: boolean; readonly status: number }
  | { readonly kind: "fatal"; readonly message: string }
  | { readonly kind: "binary-checked"; readonly name: string; readonly accepted: boolean; readonly message: string }
  /** null: there is no kernel to look at yet (booting), or any more. */
  | { readonly kind: "snapshot"; readonly snapshot: Snapshot | null }
  | { readonly kind: "panel-answer"; readonly id: number; readonly status: number | null; readonly message: string }
  | { readonly kind: "disk-image"; readonly bytes: ArrayBuffer }
  | { readonly kind: "shut-down" };
