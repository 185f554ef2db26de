import { Op, ObjectKind, Rights } from "./caps/object-abi.ts";
import type { Invocation } from "./caps/invocation.ts";
import { word } from "./caps/invocation.ts";
import { Status } from "./errors.ts";
import { MAX_HANDLER_NAME_BYTES, registerFaultHandler } from "./fault-handler.ts";
import { PAGE_SIZE, WASM_PAGE_SIZE } from "./constants.ts";
import { checkBuffer, type MessageBuffer } from "./message.ts";
import { GLOBAL_EXPORT_PREFIX } from "./mmu-abi.ts";
import { PageInRequired } from "./paging-hooks.ts";
import type { Process } from "./process.ts";
import { type ResidentCallKernel, residentCall } from "./resident-call.ts";

/**
 * A serving process (PROCESS_SERVE): once its entry function returns, the kernel receives on
 * `receiver` for it, into `buffer`, and calls the export `handler(status) -> i32` for each
 * message: 0 to go on, anything else to end with that exit code. Between two messages the process
 * has no frames on any stack: everything it is lies in its memory and its globals, which is what
 * makes it quiescent, so that PROCESS_CLONE can copy a process that has run.
 */
export interface ServeRegistration {
  readonly receiver: number;
  readonly buffer: MessageBuffer;
  readonly handler: string;
}

/** What the serve loop needs of the kernel. */
export interface ServingKernel extends ResidentCallKernel {
  invoke(process: Process, cap: number, buffer: MessageBuffer): number | Promise<number>;
  writeMemory(process: Process, address: number, data: Uint8Array): boolean;
  exit(process: Process, code: number): Promise<never>;
}

const LOADER_EXPORT_PREFIX = "__dogma";
const utf8 = new TextDecoder("utf-8", { fatal: false });

/**
 * PROCESS_SERVE, on the caller's own Process capability: words `name_ptr, name_len, receiver slot,
 * buffer_ptr, buffer_capacity`. E_INVALID_ARGUMENT for another process, a name that is no exported
 * function of its own, or a buffer of a size no message buffer has; E_WRONG_TYPE / E_MISSING_RIGHT
 * for a slot that is no Receiver it may receive on; E_BAD_ADDRESS for a name or buffer outside its
 * private window.
 */
export function registerServe(inv: Invocation, target: Process): number {
  if (target !== inv.caller) return Status.E_INVALID_ARGUMENT;
  const nameLength = word(inv, 1);
  if (nameLength === 0 || nameLength > MAX_HANDLER_NAME_BYTES) return Status.E_INVALID_ARGUMENT;
  let name: string;
  try {
    name = utf8.decode(target.space.read(word(inv, 0), nameLength));
  } catch (error) {
    // Paged out: invoke pages it in and is called again (nothing has happened yet).
    if (error instanceof PageInRequired) throw error;
    return Status.E_BAD_ADDRESS;
  }
  const exports = target.instance?.exports ?? {};
  if (typeof (Object.hasOwn(exports, name) ? exports[name] : undefined) !== "function" || name.startsWith(LOADER_EXPORT_PREFIX)) return Status.E_INVALID_ARGUMENT;
  const receiver = word(inv, 2);
  const cap = target.caps.get(receiver);
  if (!cap) return Status.E_INVALID_CAP;
  if (cap.object.kind !== ObjectKind.RECEIVER) return Status.E_WRONG_TYPE;
  if (!cap.has(Rights.RECEIVER_RECEIVE)) return Status.E_MISSING_RIGHT;
  const buffer = { ptr: word(inv, 3), capacity: word(inv, 4) };
  if (checkBuffer(buffer.capacity) !== Status.OK) return Status.E_INVALID_ARGUMENT;
  if (buffer.ptr < PAGE_SIZE || buffer.ptr + buffer.capacity > target.space.wasmPages * WASM_PAGE_SIZE) return Status.E_BAD_ADDRESS;
  target.serving = { receiver, buffer, handler: name };
  return Status.OK;
}

/** The receive request the kernel writes into the buffer before each receive. */
const RECEIVE_REQUEST = new Uint8Array(new Uint32Array([Op.RECEIVER_RECEIVE, 0, 0, 0, 0]).buffer);

/** A serving process's receive, one per kernel (`receiveFor`). */
type ServeReceive = (process: Process) => number | Promise<number>;
const receives = new WeakMap<ServingKernel, ServeReceive>();

/**
 * The receive of every serving process of `kernel`, made once: a resident call made for each
 * process (its closures and their contexts) was kept by each, a few hundred bytes a process that
 * the collector marks at every full collection (100,000 servers: issue 18).
 */
export function receiveFor(kernel: ServingKernel): ServeReceive {
  let receive = receives.get(kernel);
  if (!receive) {
    // Read at each message: a handler may register again (another Receiver, buffer or handler).
    const call = (process: Process): number | Promise<number> => {
      const { buffer, receiver } = process.serving!;
      return kernel.writeMemory(process, buffer.ptr, RECEIVE_REQUEST) ? kernel.invoke(process, receiver, buffer) : Status.E_BAD_ADDRESS;
    };
    receive = residentCall(kernel, "serve", call as (...args: never[]) => unknown, true) as ServeReceive;
    receives.set(kernel, receive);
  }
  return receive;
}

/** The handler before the first message: none is called before it (serve reads the registration first). */
const NO_HANDLER = (): Promise<unknown> => Promise.resolve(0);

/**
 * Serves for `process` until its handler asks to end or a receive fails (the handler is told the
 * status, and the process ends with what it answers). Runs on the process's turn, like its entry
 * (so the resident call's process, the kernel's current one, is `process`).
 */
export async function serve(kernel: ServingKernel, process: Process): Promise<void> {
  const receive = receiveFor(kernel);
  let handlerName = "";
  let handler: (status: number) => Promise<unknown> = NO_HANDLER;
  for (;;) {
    if (process.serving!.handler !== handlerName) {
      handlerName = process.serving!.handler;
      handler = WebAssembly.promising(process.instance!.exports[handlerName] as (status: number) => number);
    }
    process.servingIdle = true;
    let status: number;
    try {
      status = await receive(process);
    } finally {
      process.servingIdle = false;
    }
    const result = ((await handler(status)) as number) | 0;
    if (result !== 0 || status < 0) {
      await kernel.exit(process, result);
      return;
    }
  }
}

/** Whether `process` is quiescent in its serve loop: waiting for a message, no frames anywhere. */
export function quiescent(process: Process): boolean {
  return process.servingIdle && process.waitCancel !== null;
}

/**
 * What a clone of a quiescent serving process takes besides its pages: the program's globals, its
 * fault handler, its listening, and its registration with the same Receiver at the same slot, so
 * that it starts in its serve loop and shares the source's queue (a pool of servers).
 */
export function copyServingState(source: Process, clone: Process): void {
  const from = source.instance!.exports;
  const to = clone.instance!.exports;
  for (const [name, value] of Object.entries(from)) {
    if (!name.startsWith(GLOBAL_EXPORT_PREFIX) || !(value instanceof WebAssembly.Global)) continue;
    (to[name] as WebAssembly.Global).value = value.value;
  }
  const handler = source.faultHandler.registration;
  if (handler) registerFaultHandler(clone, handler.name, handler.stackBase, handler.stackBytes);
  clone.listening = source.listening;
  const registration = source.serving!;
  const receiver = source.caps.get(registration.receiver)!;
  clone.caps.placeAt(registration.receiver, receiver.derive(receiver.rights));
  clone.serving = registration;
  clone.resumesServing = true;
}
