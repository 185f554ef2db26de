/**
 * The largest binary the host reads and hands to the loader (the loader's own limit is set to the
 * same): a program, a --module or a boot module. A larger file is refused before it is read.
 */
export const MAX_PROGRAM_BYTES = 256 << 20;
