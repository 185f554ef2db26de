/**
 * Whether this JavaScript engine has WebAssembly JSPI (`WebAssembly.Suspending`,
 * `WebAssembly.promising`), which Dogma's processes block with: Chromium 137 and later (and Node
 * 26). Without it nothing can run, and the page says so instead of showing a dead terminal.
 */
export function hasJspi(): boolean {
  const wasm = (globalThis as { WebAssembly?: Record<string, unknown> }).WebAssembly;
  return typeof wasm?.Suspending === "function" && typeof wasm?.promising === "function";
}

export const NO_JSPI_MESSAGE =
  "This browser has no WebAssembly JSPI (JavaScript Promise Integration), which Dogma needs to run its processes: " +
  "every process that waits for the kernel is a suspended WebAssembly stack. Chromium and Chrome have it from version 137 " +
  "(Edge and other Chromium browsers too); Firefox and Safari do not yet ship it.";
