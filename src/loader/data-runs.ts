import type { DataSegment } from "../kernel/image.ts";

/** Below this many segments a module's data is kept as it came: a few objects cost nothing. */
export const COALESCE_MIN_SEGMENTS = 64;
/** The widest run of zeros written between two segments merged into one. */
export const COALESCE_MAX_GAP = 64;

/**
 * The active data segments of a module without passive ones, merged into as few runs as give the
 * same initial memory. Go's linker cuts its data at every short run of zeros, up to 100,000
 * segments (esbuild's 5.3 MB: median 2 bytes a segment, gaps of 15-47 bytes): each was an object
 * and a buffer the image and every process kept for their whole lives, 200,000 small objects that
 * each collection of the host's heap walked or copied, and a write at every spawn. Merged, it is
 * 49 runs and 1.8 MB of zeros more.
 *
 * What makes it exact: the kernel writes active segments in order into fresh, zeroed memory, and
 * after that the program can reach an active segment only through memory.init and data.drop, for
 * which it is dropped (empty) whatever its index; a module with a passive segment is left as it
 * is, since its indices then matter. A segment that starts right where the run before it ends
 * joins it; one that starts at most COALESCE_MAX_GAP bytes later joins it with zeros in between
 * only when every segment lies after the one before it (ascending and disjoint), so that no
 * segment's bytes are in a gap and those zeros land on zeros.
 */
export function coalesceSegments(segments: readonly DataSegment[]): readonly DataSegment[] {
  if (segments.length < COALESCE_MIN_SEGMENTS || segments.some((s) => s.offset === null)) return segments;
  const ascending = segments.every((s, i) => i === 0 || s.offset! >= segments[i - 1]!.offset! + segments[i - 1]!.data.length);
  const runs: Array<{ offset: number; parts: DataSegment[]; end: number }> = [];
  for (const segment of segments) {
    if (segment.data.length === 0) continue; // writes nothing (its bounds were checked)
    const offset = segment.offset!;
    const last = runs[runs.length - 1];
    const gap = last ? offset - last.end : -1;
    if (last && (gap === 0 || (ascending && gap > 0 && gap <= COALESCE_MAX_GAP))) {
      last.parts.push(segment);
      last.end = offset + segment.data.length;
    } else runs.push({ offset, parts: [segment], end: offset + segment.data.length });
  }
  return runs.map(({ offset, parts, end }) => {
    if (parts.length === 1) return parts[0]!;
    const data = new Uint8Array(end - offset);
    for (const part of parts) data.set(part.data, part.offset! - offset);
    return { offset, data };
  });
}
