// Generates a large valid Dogma program with binaryen: `functions` exported functions, each a
// loop of loads and stores with its own constants (so no two are alike and none folds away).
import binaryen from "binaryen";

export function bigModule(functions: number): Uint8Array<ArrayBuffer> {
  const m = new binaryen.Module();
  m.setMemory(16, 16, "memory", [{ offset: m.i32.const(65536), data: new TextEncoder().encode("dogma bench data"), passive: false }]);
  const { i32, i64 } = binaryen;
  const params = binaryen.createType([i32, i32]);
  const PTR = 0, N = 1, ACC = 2, WIDE = 3;
  for (let f = 0; f < functions; f++) {
    const c = (k: number) => m.i32.const((Math.imul(f + 1, 0x9e3779b1) ^ Math.imul(k + 7, 0x85ebca6b)) | 0);
    const body: binaryen.ExpressionRef[] = [];
    for (let k = 0; k < 8; k++) {
      // acc = acc * c + load(ptr + 4k); store(ptr + 4k + 256, acc ^ c')
      body.push(m.local.set(ACC, m.i32.add(m.i32.mul(m.local.get(ACC, i32), c(k)), m.i32.load(4 * k, 4, m.local.get(PTR, i32)))));
      body.push(m.i32.store(4 * k + 256, 4, m.local.get(PTR, i32), m.i32.xor(m.local.get(ACC, i32), c(k + 100))));
    }
    body.push(m.local.set(WIDE, m.i64.add(m.local.get(WIDE, i64), m.i64.load8_u(f & 63, 1, m.local.get(PTR, i32)))));
    body.push(m.i64.store(512 + (f & 7) * 8, 8, m.local.get(PTR, i32), m.local.get(WIDE, i64)));
    body.push(m.local.set(PTR, m.i32.add(m.local.get(PTR, i32), m.i32.const(4 + (f & 12)))));
    body.push(m.local.set(N, m.i32.sub(m.local.get(N, i32), m.i32.const(1))));
    body.push(m.br("L", m.i32.gt_s(m.local.get(N, i32), m.i32.const(0))));
    const result = m.i32.add(m.local.get(ACC, i32), m.i32.wrap(m.local.get(WIDE, i64)));
    m.addFunction(`f${f}`, params, i32, [i32, i64], m.block(null, [m.loop("L", m.block(null, body)), result], i32));
    m.addFunctionExport(`f${f}`, `f${f}`);
  }
  if (!m.validate()) throw new Error("bench bug: the generated module does not validate");
  const bytes = new Uint8Array(m.emitBinary());
  m.dispose();
  return bytes;
}
