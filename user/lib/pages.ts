// Fresh linear memory for raw buffers. It imports nothing, so the benchmarks can use it and still
// run outside Dogma. The pages are grown past everything the runtime has handed out, but the stub
// runtime's bump allocator would later allocate into them (it only grows memory once it passes
// memory.size), so callers must not allocate while they use the pages.

/** Grows memory by enough pages for `bytes` and returns the address of the first new byte. */
export function growPages(bytes: usize): usize {
  const pages = <i32>((bytes + 0xffff) >>> 16);
  const old = memory.grow(pages);
  if (old < 0) unreachable();
  return <usize>old << 16;
}
