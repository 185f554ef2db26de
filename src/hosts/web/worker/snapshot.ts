import type { KernelInspector } from "../../../kernel/inspect.ts";
import type { Kernel } from "../../../kernel/kernel.ts";
import type { Snapshot } from "../protocol.ts";

/**
 * What the live views get each time they ask: every table of the inspection interface, and the
 * capability table of the process they show. This is all the views cost besides the observers'
 * counting (bench/web.ts measures both).
 */
export function takeSnapshot(inspector: KernelInspector, kernel: Kernel, capsOf: number | null, timelineAfterNs: number): { snapshot: Snapshot; transfer: Transferable[] } {
  const { live, ended } = inspector.processes();
  const frames = inspector.frameMap();
  const snapshot: Snapshot = {
    atNs: kernel.clock.monotonicNs(),
    live,
    ended,
    caps: capsOf === null ? null : { pid: capsOf, table: inspector.capabilities(capsOf) },
    frames,
    ipc: inspector.ipc(),
    timeline: inspector.timelineSince(timelineAfterNs),
  };
  return { snapshot, transfer: [frames.kinds.buffer as ArrayBuffer, frames.owners.buffer as ArrayBuffer] };
}
