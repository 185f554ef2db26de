// The kernel's shims for blocking calls (src/kernel/call-shim.ts): a call that answers at once
// returns to the program without its stack being suspended; one that answers with a promise
// suspends it and hands back the promise's value, of each value type; a rejection reaches the
// program's caller; and a stack walk inside a call finds the program's frames, not the shim's.
import { describe, expect, it } from "vitest";
import { isShimFrame, shimBlockingCalls } from "../../src/kernel/call-shim.ts";
import { captureFrames } from "../../src/kernel/debug-frames.ts";
import { sig } from "../../src/kernel/personality.ts";
import { wat } from "../helpers/wat.ts";

const PROGRAM = wat(`(module
  (import "m" "get_i32" (func $get_i32 (param i32) (result i32)))
  (import "m" "get_i64" (func $get_i64 (param i64 i32) (result i64)))
  (import "m" "get_f64" (func $get_f64 (param f64) (result f64)))
  (import "m" "touch" (func $touch (param i32)))
  (func $inner (export "inner") (param $x i32) (result i32)
    (call $touch (local.get $x))
    (call $get_i32 (local.get $x)))
  (func (export "run") (param $x i32) (result f64)
    (f64.add
      (f64.add
        (f64.convert_i32_s (call $inner (local.get $x)))
        (f64.convert_i64_s (call $get_i64 (i64.const 1000000000000) (local.get $x))))
      (call $get_f64 (f64.convert_i32_s (local.get $x))))))`);

/** The program with each call answering at once, or with a promise when `later` says so. */
function instantiate(later: (name: string, x: number) => boolean, seen: string[] = []) {
  const answer = <T>(name: string, x: number, value: T): T | Promise<T> => {
    seen.push(`${name}(${x})`);
    return later(name, x) ? new Promise((resolve) => setTimeout(() => resolve(value), 1)) : value;
  };
  const calls = shimBlockingCalls("m", [
    { name: "get_i32", signature: sig(["i32"], ["i32"], true), call: ((x: number) => answer("get_i32", x, x * 2)) as never },
    { name: "get_i64", signature: sig(["i64", "i32"], ["i64"], true), call: ((big: bigint, x: number) => answer("get_i64", x, big + BigInt(x))) as never },
    { name: "get_f64", signature: sig(["f64"], ["f64"], true), call: ((x: number) => answer("get_f64", x, x + 0.5)) as never },
    { name: "touch", signature: sig(["i32"], [], true), call: ((x: number) => answer("touch", x, undefined)) as never },
  ]);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(PROGRAM as Uint8Array<ArrayBuffer>), { m: calls });
  return WebAssembly.promising(instance.exports.run as (x: number) => number);
}

const expected = (x: number) => 2 * x + 1e12 + x + x + 0.5;

describe("the kernel's shims for blocking calls", () => {
  it("hands back each value type, answered at once or through a promise, in the order the calls were made", async () => {
    for (const slow of [[], ["get_i32"], ["get_i64", "touch"], ["get_i32", "get_i64", "get_f64", "touch"]]) {
      const seen: string[] = [];
      const run = instantiate((name) => slow.includes(name), seen);
      expect(await run(7)).toBe(expected(7));
      expect(seen).toEqual(["touch(7)", "get_i32(7)", "get_i64(7)", "get_f64(7)"]);
      expect(await run(-3)).toBe(expected(-3));
    }
  });

  it("does not suspend the program for a call that answers at once, and does for one that answers with a promise", async () => {
    // A microtask queued by a call runs before the program goes on only if its stack was suspended.
    for (const slow of [false, true]) {
      let ran = false;
      const order: string[] = [];
      const run = instantiate((name) => {
        if (name === "touch") queueMicrotask(() => (ran = true));
        if (name === "get_i32") order.push(ran ? "suspended" : "ran on");
        return slow && name === "touch";
      });
      expect(await run(1)).toBe(expected(1));
      expect(order).toEqual([slow ? "suspended" : "ran on"]);
    }
  });

  it("passes a rejection on to the program's caller", async () => {
    const calls = shimBlockingCalls("m", [{ name: "fail", signature: sig([], ["i32"], true), call: (() => Promise.reject(new Error("the call failed"))) as never }]);
    const program = wat(`(module (import "m" "fail" (func $fail (result i32))) (func (export "run") (result i32) (call $fail)))`);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(program as Uint8Array<ArrayBuffer>), { m: calls });
    await expect(WebAssembly.promising(instance.exports.run as () => number)()).rejects.toThrow("the call failed");
  });

  it("keeps its frames out of the program's stack as the debugger and the fault path read it", async () => {
    let names: string[] = [];
    let frames = 0;
    const calls = shimBlockingCalls("m", [
      {
        name: "look",
        signature: sig([], ["i32"], true),
        call: (() => {
          const error = new Error("where");
          names = (error.stack ?? "").split("\n").filter((line) => line.includes("wasm://"));
          frames = captureFrames().frames.length;
          return 1;
        }) as never,
      },
    ]);
    const program = wat(`(module (import "m" "look" (func $look (result i32))) (func $program_function (export "run") (result i32) (call $look)))`);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(program as Uint8Array<ArrayBuffer>), { m: calls });
    expect(await WebAssembly.promising(instance.exports.run as () => number)()).toBe(1);
    // The shim is on the stack (named for what it is), and only the program's frame is counted.
    expect(names.some(isShimFrame)).toBe(true);
    expect(names.some((line) => line.includes("program_function"))).toBe(true);
    expect(frames).toBe(1);
  });
});

// Attacks on the shim's one pending slot per import module (redteam8): every process's calls of a
// module go through the same shim instance, so these look for a way to make one program receive
// another's answer, or leave the slot or the flag set for the next caller.
describe("the call shim under attack", () => {
  const CALLER = wat(`(module
    (import "m" "get" (func $get (param i32) (result i32)))
    (import "m" "get64" (func $get64 (param i32) (result i64)))
    (func (export "run") (param $x i32) (result i32) (call $get (local.get $x)))
    (func (export "twice") (param $x i32) (result i32)
      (i32.add (call $get (local.get $x)) (i32.wrap_i64 (call $get64 (i32.add (local.get $x) (i32.const 1)))))))`);

  /** A shim whose calls answer what `answer` says, and `n` programs (processes) that use it. */
  function processes(n: number, answer: (x: number) => unknown) {
    const calls = shimBlockingCalls("m", [
      { name: "get", signature: sig(["i32"], ["i32"], true), call: ((x: number) => answer(x)) as never },
      { name: "get64", signature: sig(["i32"], ["i64"], true), call: ((x: number) => wide(answer(x))) as never },
    ]);
    const module = new WebAssembly.Module(CALLER as Uint8Array<ArrayBuffer>);
    return Array.from({ length: n }, () => {
      const exports = new WebAssembly.Instance(module, { m: calls }).exports;
      return {
        run: WebAssembly.promising(exports.run as (x: number) => number),
        twice: WebAssembly.promising(exports.twice as (x: number) => number),
        plain: exports.run as (x: number) => number,
      };
    });
  }

  /** An answer as get64's (i64) result: a number as a BigInt, at once or through the promise. */
  function wide(value: unknown): unknown {
    if (value instanceof Promise) return value.then(wide);
    return typeof value === "number" ? BigInt(value) : value;
  }

  /** A promise settled by hand. */
  function later<T>() {
    let resolve!: (value: T) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<T>((yes, no) => ((resolve = yes), (reject = no)));
    return { promise, resolve, reject };
  }

  it("gives each of two processes its own answers while one is suspended and the other calls, in either order of settling", async () => {
    for (const firstSettles of ["a", "b"]) {
      const waits = new Map<number, ReturnType<typeof later<unknown>>>();
      const [a, b] = processes(2, (x) => {
        if (x === 20) return 200; // at once
        const wait = later<unknown>();
        waits.set(x, wait);
        return wait.promise;
      });
      const ranA = a!.run(10);
      const ranB = b!.twice(20); // 200 at once, then 21 through a promise (i64)
      expect([...waits.keys()]).toEqual([10, 21]);
      const settle = { a: () => waits.get(10)!.resolve(100), b: () => waits.get(21)!.resolve(21_000n) };
      settle[firstSettles as "a" | "b"]();
      await Promise.resolve();
      settle[firstSettles === "a" ? "b" : "a"]();
      expect(await ranA).toBe(100);
      expect(await ranB).toBe(200 + 21_000);
    }
  });

  it("gives the right answers when a call's implementation runs another process inside it, which suspends in the same shim", async () => {
    for (const outer of ["at once", "a promise"]) {
      let inner: Promise<number> | null = null;
      const innerWait = later<unknown>();
      const outerWait = later<unknown>();
      const [a, b] = processes(2, (x) => {
        if (x === 2) return innerWait.promise;
        // The first process's call runs the second, as a kernel call that starts a process would.
        inner = b!.run(2);
        return outer === "at once" ? 11 : outerWait.promise;
      });
      const ranA = a!.run(1);
      outerWait.resolve(12);
      innerWait.resolve(22);
      expect(await ranA, outer).toBe(outer === "at once" ? 11 : 12);
      expect(await inner!, outer).toBe(22);
    }
  });

  it("is not wedged by a process whose call never returns (killed while suspended), one whose call rejects or throws, or one that called outside JSPI", async () => {
    const never = new Promise<unknown>(() => {});
    const behaviour = new Map<number, () => unknown>([
      [1, () => never],
      [2, () => Promise.reject(new Error("a call that returned a promise and then failed"))],
      [3, async () => {
        await Promise.resolve();
        throw new Error("a call that failed after it waited");
      }],
      [4, () => {
        throw new Error("a call that failed at once");
      }],
      [5, () => Promise.resolve(5)],
    ]);
    const [killed, rejected, failedLater, failed, outside, after] = processes(6, (x) => behaviour.get(x)?.() ?? (x % 2 === 0 ? Promise.resolve(x * 10) : x * 10));
    void killed!.run(1);
    await expect(rejected!.run(2)).rejects.toThrow("returned a promise and then failed");
    await expect(failedLater!.run(3)).rejects.toThrow("failed after it waited");
    await expect(failed!.run(4)).rejects.toThrow("failed at once");
    // Outside a promising export the shim cannot suspend: the program traps, and the promise it
    // left must not be taken by the next caller.
    expect(() => outside!.plain(5)).toThrow(/suspend/);
    for (const x of [6, 7, 8, 9]) expect(await after!.run(x)).toBe(x * 10);
    expect(await after!.twice(8)).toBe(80 + 90);
  });

  it("never calls an implementation whose answer the program then cannot wait for, at any depth of its stack", async () => {
    // A program that recurses to the edge of its stack and then calls: either the stack overflows
    // before the implementation runs, or the answer reaches the program. An implementation that
    // ran (a message sent, input taken) with its promise dropped by an overflow in the shim would
    // be a side effect the process never sees the end of.
    let called = 0;
    const calls = shimBlockingCalls("m", [{ name: "get", signature: sig([], ["i32"], true), call: (() => (called++, Promise.resolve(7))) as never }]);
    for (let locals = 0; locals < 12; locals++) {
      const declared = Array.from({ length: locals }, (_, i) => `(local $l${i} i64)`).join(" ");
      const used = Array.from({ length: locals }, (_, i) => `(local.set $l${i} (i64.extend_i32_u (local.get $n)))`).join(" ");
      const program = wat(`(module (import "m" "get" (func $get (result i32)))
        (func $leaf (param $n i32) (result i32) ${declared} ${used} (call $get))
        (func $down (export "down") (param $n i32) (result i32)
          (if (result i32) (i32.eqz (local.get $n)) (then (call $leaf (local.get $n)))
            (else (i32.add (i32.const 0) (call $down (i32.sub (local.get $n) (i32.const 1))))))))`);
      const down = WebAssembly.promising(new WebAssembly.Instance(new WebAssembly.Module(program as Uint8Array<ArrayBuffer>), { m: calls }).exports.down as (n: number) => number);
      const outcome = async (n: number) => {
        const before = called;
        try {
          return { called: called - before, value: await down(n) };
        } catch (error) {
          return { called: called - before, value: String(error) };
        }
      };
      let fits = 0;
      let overflows = 1 << 18;
      while (overflows - fits > 1) {
        const mid = (fits + overflows) >> 1;
        if ((await outcome(mid)).value === 7) fits = mid;
        else overflows = mid;
      }
      for (let n = fits - 2; n <= fits + 2; n++) {
        const { called: ran, value } = await outcome(n);
        expect(ran === 0 || value === 7, `depth ${n}, ${locals} locals: called ${ran}, answered ${value}`).toBe(true);
      }
    }
  });
});
