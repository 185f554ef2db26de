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
