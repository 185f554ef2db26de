/**
 * What owns a frame that an address space maps without owning it: an Image's bytes, a Page, a
 * Region, a device's registers. Every such mapping names its owner, and the owner hears of the
 * mapping when it is made and when it goes (`mapped`, `unmapped`, once per page), whatever removes
 * it: an unmap, another mapping put over it, the end of the space.
 *
 * Invariant (checked by src/kernel/invariants.ts): a mapping's owner is live and owns the mapped
 * frame. An owner that goes while mapped (its Memory destroyed) takes its mappings down first;
 * an owner that is only released keeps living while it is mapped (an Image), or was never
 * releasable (a device). Either way no page table ever names a frame that went back to the
 * allocator: issue 16's first finding was an Image whose frames were freed under a mapping.
 */
export interface FrameOwner {
  /** What it is, for the invariant checker's messages. */
  readonly ownerName: string;
  readonly destroyed: boolean;
  /** Whether a mapping of it at `address` may name `frame` now. */
  ownsFrame(frame: number, address: number): boolean;
  /**
   * Owners whose pages get their frames on first use (an image) map them with frame 0 first:
   * the frame for `address`, given now if it had none and `mayGive` (a new frame, which paging
   * cannot take back, is within the kernel's limit for such frames: FrameAllocator.mayWire);
   * null when memory is exhausted or a new frame may not be given.
   */
  frameFor?(address: number, mayGive: boolean): number | null;
  /** A page of it was mapped in `space`. */
  mapped(space: MappingSpace): void;
  /** That mapping went. */
  unmapped(space: MappingSpace): void;
}

/** An address space as an owner sees it: something to take a mapping back from. */
export interface MappingSpace {
  /** The owner of the shared mapping at `address`, if any. */
  ownerAt(address: number): FrameOwner | null;
  unmap(address: number): void;
}
