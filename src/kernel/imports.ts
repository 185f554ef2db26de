import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { dogmaAbi } from "./abi.ts";
import { chargeBulk } from "./fuel.ts";
import { FUEL_PER_CHECK } from "./constants.ts";
import type { Kernel } from "./kernel.ts";
import { copyMemory, fillMemory, initMemory, loadValue, storeValue, type WasmValue } from "./memory-instructions.ts";
import { ACCESS_KINDS, MMU_FUNCTIONS, MMU_HOME_GLOBAL, MMU_MODULE, MMU_TLB_GLOBAL, SLOW_PATH_IMPORTS } from "./mmu-abi.ts";
import { relayCalls, type RelayedCall } from "./import-relay.ts";
import { NO_SEGMENT, type Process } from "./process.ts";
import type { ImportFunction, ImportModuleSpec } from "./personality.ts";
import { type BlockingCall, shimBlockingCalls } from "./call-shim.ts";
import { residentCall } from "./resident-call.ts";
import type { KernelServices } from "./services.ts";

type ModuleImports = Record<string, unknown>;

/**
 * The import object every process is instantiated with. All of it is shared by every process
 * (calls act for the kernel's current process) except the TLB base, a number per process.
 */
export interface ImportObject {
  forProcess(tlbBase: number, home: number): WebAssembly.Imports;
}

export function buildImports(
  kernel: Kernel,
  memory: PhysicalMemory,
  personalities: readonly ImportModuleSpec<KernelServices>[],
  trace?: (line: string) => void,
): ImportObject {
  const shared: Record<string, ModuleImports> = {};
  // Each module bound when an instantiation first asks for it (an ordinary property lookup, which
  // runs this getter): a machine whose programs import the kernel's ABI alone never builds WASI's
  // imports, whose blocking calls' shim is a module compiled and instantiated (bindModule), ~10 ms
  // of a `dogma run` on the bench machine.
  for (const spec of [dogmaAbi, ...personalities]) {
    Object.defineProperty(shared, spec.module, {
      configurable: true,
      enumerable: true,
      get: () => {
        const bound = bindModule(kernel, spec, trace);
        Object.defineProperty(shared, spec.module, { value: bound, enumerable: true });
        return bound;
      },
    });
  }
  const mmu = mmuImports(kernel, memory);
  return {
    forProcess(tlbBase, home) {
      // The shared imports are the prototypes, so that a spawn copies none of them: instantiation
      // reads imports with an ordinary property lookup, which follows the chain.
      const own: ModuleImports = Object.create(mmu) as ModuleImports;
      // An immutable global import takes a plain number: no Global object per spawn.
      own[MMU_TLB_GLOBAL] = tlbBase;
      own[MMU_HOME_GLOBAL] = home;
      const imports = Object.create(shared) as Record<string, ModuleImports>;
      imports[MMU_MODULE] = own;
      return imports as WebAssembly.Imports;
    },
  };
}

function bindModule(kernel: Kernel, spec: ImportModuleSpec<KernelServices>, trace?: (line: string) => void): ModuleImports {
  const bound = spec.bind(kernel);
  const result: ModuleImports = {};
  const blocking: BlockingCall[] = [];
  // The calls that are not the shim's go through a relay (import-relay.ts): a program's import of
  // one then links as a WebAssembly function, for about half a JavaScript one's cost at every
  // spawn. Safe for every program: the loader refuses an import whose type is not the ABI's
  // (loader/policy.ts), and the relay's functions have exactly the ABI's types.
  const relayed: RelayedCall[] = [];
  const direct: ModuleImports = {};
  for (const [name, signature] of Object.entries(spec.functions)) {
    let fn = bound[name];
    if (!fn) throw new Error(`kernel bug: ${spec.module}.${name} has no implementation`);
    // Wrapped before tracing: residentCall looks at whether the implementation is async.
    fn = residentCall(kernel, `${spec.module}.${name}`, fn, signature.blocks, spec.promisesNeedPages) as ImportFunction;
    if (trace) fn = traced(kernel, `${spec.module}.${name}`, fn, trace);
    if (signature.blocks && !signature.usuallyWaits) {
      blocking.push({ name, signature, call: fn });
      continue;
    }
    direct[name] = signature.usuallyWaits ? new WebAssembly.Suspending(fn as (...args: unknown[]) => unknown) : fn;
    relayed.push({ name, params: signature.params, results: signature.results });
  }
  Object.assign(result, relayCalls(spec.module, relayed, direct));
  // The other blocking calls suspend the program's stack only when they return a promise (call-shim.ts).
  Object.assign(result, shimBlockingCalls(spec.module, blocking));
  return result;
}

function traced(kernel: Kernel, name: string, fn: ImportFunction, trace: (line: string) => void): ImportFunction {
  return ((...args: unknown[]) => {
    const pid = kernel.current().pid;
    const call = `[pid ${pid}] ${name}(${args.join(", ")})`;
    const result = (fn as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      return result.then((value: unknown) => {
        trace(`${call} = ${String(value)}`);
        return value;
      });
    }
    trace(`${call}${result === undefined ? "" : ` = ${String(result)}`}`);
    return result;
  }) as ImportFunction;
}

/**
 * A slow path that can fault: a fault goes to the process's fault handler when it will take it
 * (the import then returns `dummy` and the loader's wrapper runs the handler and retries), else
 * tears the process down as before. See fault-handler.ts.
 */
/**
 * Of fixed arity (up to four operands; the calls pass three or four), not `...args`: a rest
 * parameter and its spread made an array at every slow path and bulk call (esbuild's 100,000 a
 * run were 8 MB of the host's heap).
 */
function faultable<A, B, C, D, R>(kernel: Kernel, dummy: R, run: (process: Process, a: A, b: B, c: C, d: D) => R): (a: A, b: B, c: C, d: D) => R {
  return (a: A, b: B, c: C, d: D): R => {
    const process = kernel.current();
    try {
      const value = run(process, a, b, c, d);
      process.faultHandler.completed();
      return value;
    } catch (error) {
      process.faultHandler.offer(error);
      return dummy;
    }
  };
}

function mmuImports(kernel: Kernel, memory: PhysicalMemory): ModuleImports {
  const imports: ModuleImports = { memory: memory.memory };
  // One import per integer type and direction; the loader's wrapper passes the access kind last.
  for (const { name, store } of SLOW_PATH_IMPORTS) {
    imports[name] = store
      ? faultable(kernel, undefined, (p, ptr: number, offset: number, value: WasmValue, kind: number) => storeValue(p.space, memory, ACCESS_KINDS[kind]!, ptr, offset, value))
      : faultable(kernel, name === "load_i64" ? 0n : 0, (p, ptr: number, offset: number, kind: number) => loadValue(p.space, memory, ACCESS_KINDS[kind]!, ptr, offset));
  }
  imports.memory_size = () => kernel.current().space.wasmPages;
  imports.memory_grow = (delta: number) => kernel.current().space.grow(delta >>> 0);
  // Bulk operations are charged fuel for their bytes, so that none can stretch a time slice.
  imports.memory_copy = faultable(kernel, undefined, (p, dest: number, src: number, length: number) => {
    copyMemory(p.space, memory, dest, src, length);
    chargeBulk(p, length >>> 0);
  });
  imports.memory_fill = faultable(kernel, undefined, (p, dest: number, value: number, length: number) => {
    fillMemory(p.space, memory, dest, value, length);
    chargeBulk(p, length >>> 0);
  });
  imports.memory_init = faultable(kernel, undefined, (p, segment: number, dest: number, src: number, length: number) => {
    initMemory(p.space, memory, p.segments[segment] ?? NO_SEGMENT, dest, src, length);
    chargeBulk(p, length >>> 0);
  });
  imports.data_drop = (segment: number) => {
    const segments = kernel.current().segments;
    if (segment < segments.length) segments[segment] = NO_SEGMENT;
  };
  // Plain: the loader's helper calls the suspending safe_point_wait only when this says so (mmu-abi.ts SAFE_POINT_WAIT).
  imports.safe_point = () => kernel.safePointCheck(kernel.current(), FUEL_PER_CHECK);
  imports.safe_point_wait = new WebAssembly.Suspending(() => kernel.safePoint(kernel.current(), FUEL_PER_CHECK));
  imports.fault_handle = new WebAssembly.Suspending(() => kernel.current().faultHandler.handle());
  // WebAssembly functions, which instantiation links for about half a JavaScript one's cost (import-relay.ts).
  return { memory: memory.memory, ...relayCalls(MMU_MODULE, MMU_FUNCTIONS, imports) };
}
