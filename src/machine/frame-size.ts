/** The machine's frame: the unit of physical memory the MMU maps. */
export const FRAME_SHIFT = 12;
export const FRAME_SIZE = 1 << FRAME_SHIFT;
/** WebAssembly's own page, in which a WebAssembly.Memory is sized. */
export const WASM_PAGE_SIZE = 65536;
