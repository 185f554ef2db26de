import { it } from "vitest";
import { wat } from "../helpers/wat.ts";
import { shimBlockingCalls } from "../../src/kernel/call-shim.ts";
import { sig } from "../../src/kernel/personality.ts";
it("stack window", async () => {
  let called = 0;
  const calls = shimBlockingCalls("m", [{ name: "get", signature: sig([], ["i32"], true), call: (() => { called++; return Promise.resolve(7); }) as never }]);
  const found: string[] = [];
  for (let L = 0; L < 80; L += 1) {
    const locals = Array.from({ length: L }, (_, i) => `(local $l${i} i64)`).join(" ");
    const uses = Array.from({ length: L }, (_, i) => `(local.set $l${i} (i64.extend_i32_u (local.get $n)))`).join(" ");
    const sum = Array.from({ length: L }, (_, i) => `(i32.add (i32.wrap_i64 (local.get $l${i})))`).join(" ");
    const program = wat(`(module (import "m" "get" (func $get (result i32)))
      (func $leaf (param $n i32) (result i32) ${locals} ${uses} (i32.add (call $get) (i32.const 0)) ${L ? "" : ""})
      (func $rec (export "rec") (param $n i32) (result i32)
        (if (result i32) (i32.eqz (local.get $n)) (then (call $leaf (local.get $n))) (else (i32.add (i32.const 0) (call $rec (i32.sub (local.get $n) (i32.const 1))))))))`);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(program as Uint8Array<ArrayBuffer>), { m: calls });
    const rec = WebAssembly.promising(instance.exports.rec as (n: number) => number);
    let lo = 0, hi = 200000;
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; try { await rec(mid); lo = mid; } catch { hi = mid; } }
    for (let n = lo + 1; n < lo + 3; n++) {
      const before = called;
      let r: string;
      try { r = String(await rec(n)); } catch (e) { r = String(e).slice(0, 30); }
      if (called - before > 0 && r.includes("Range")) found.push(`L=${L} n=${n}: called ${called - before} -> ${r}`);
    }
  }
  console.log("windows:", found.length, found.slice(0, 5).join("\n"));
});
