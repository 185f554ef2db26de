import { TIMELINE_BUCKET_NS, type TimelineBucket } from "../../../../kernel/inspect.ts";
import { byId } from "../dom.ts";
import { pidColor } from "./colors.ts";

const SHOWN_NS = 5e9;
const ROW_HEIGHT = 12;
const LABEL_WIDTH = 96;

/**
 * The scheduler's timeline: a row per process that ran in the last five seconds, a column per
 * 20 ms, each cell as opaque as the share of that column the process had the CPU.
 */
export class Timeline {
  private readonly canvas = byId<HTMLCanvasElement>("timeline");
  private readonly buckets: TimelineBucket[] = [];

  /** Where to ask the worker from: after the newest complete bucket held (the one in progress comes again). */
  get lastNs(): number {
    const last = this.buckets.at(-1);
    if (!last) return 0;
    return last.complete ? last.startNs + TIMELINE_BUCKET_NS - 1 : last.startNs - 1;
  }

  add(buckets: readonly TimelineBucket[], names: ReadonlyMap<number, string>): void {
    for (const bucket of buckets) {
      const last = this.buckets.at(-1);
      if (last && bucket.startNs === last.startNs) this.buckets[this.buckets.length - 1] = bucket;
      else if (!last || bucket.startNs > last.startNs) this.buckets.push(bucket);
    }
    const newest = this.buckets.at(-1)?.startNs ?? 0;
    while (this.buckets.length > 0 && this.buckets[0]!.startNs < newest - SHOWN_NS) this.buckets.shift();
    this.draw(newest, names);
  }

  private draw(newest: number, names: ReadonlyMap<number, string>): void {
    const totals = new Map<number, number>();
    for (const bucket of this.buckets) for (const [pid, ns] of bucket.shares) totals.set(pid, (totals.get(pid) ?? 0) + ns);
    const pids = [...totals.keys()].sort((a, b) => a - b);
    this.canvas.height = Math.max(ROW_HEIGHT, pids.length * ROW_HEIGHT);
    const context = this.canvas.getContext("2d")!;
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const columns = SHOWN_NS / TIMELINE_BUCKET_NS;
    const width = (this.canvas.width - LABEL_WIDTH) / columns;
    context.font = "10px ui-monospace, monospace";
    pids.forEach((pid, y) => {
      context.fillStyle = "#aab4be";
      context.fillText(`${pid} ${pid === 0 ? "kernel/idle" : (names.get(pid) ?? "")}`.slice(0, 16), 2, y * ROW_HEIGHT + 9);
    });
    for (const bucket of this.buckets) {
      const x = LABEL_WIDTH + (columns - 1 - (newest - bucket.startNs) / TIMELINE_BUCKET_NS) * width;
      for (const [pid, ns] of bucket.shares) {
        context.fillStyle = pidColor(pid, Math.min(1, 0.15 + ns / TIMELINE_BUCKET_NS));
        context.fillRect(x, pids.indexOf(pid) * ROW_HEIGHT + 1, Math.max(1, width - 0.5), ROW_HEIGHT - 2);
      }
    }
  }
}
