// A large valid Dogma program written straight as bytes (fast, no binaryen, any size): `functions`
// exported functions, each a loop of loads and stores with its own constants, like big-module.ts.
import { ByteWriter } from "../src/loader/wasm/byte-writer.ts";

export function generatedModule(functions: number): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter(functions * 400 + 1024);
  w.bytes(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  w.section(1, (s) => s.bytes(new Uint8Array([1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f])));
  w.section(3, (s) => {
    s.u32(functions);
    for (let f = 0; f < functions; f++) s.u8(0);
  });
  w.section(5, (s) => s.bytes(new Uint8Array([1, 1, 16, 16])));
  w.section(7, (s) => {
    s.u32(functions);
    for (let f = 0; f < functions; f++) {
      s.name(`f${f}`);
      s.u8(0);
      s.u32(f);
    }
  });
  w.section(10, (s) => {
    s.u32(functions);
    for (let f = 0; f < functions; f++) {
      s.sized((b) => {
        b.bytes(new Uint8Array([1, 1, 0x7f])); // local 2: the accumulator
        b.bytes(new Uint8Array([0x03, 0x40])); // loop
        for (let k = 0; k < 8; k++) {
          // acc = acc * c + load(ptr + 4k); store(ptr + 4k + 256, acc ^ c')
          b.bytes(new Uint8Array([0x20, 2, 0x41]));
          b.s32(Math.imul(f + 1, 0x9e3779b1) ^ k);
          b.bytes(new Uint8Array([0x6c, 0x20, 0, 0x28, 2, 4 * k, 0x6a, 0x21, 2]));
          b.bytes(new Uint8Array([0x20, 0, 0x20, 2, 0x41]));
          b.s32(f ^ (k << 8));
          b.bytes(new Uint8Array([0x73, 0x36, 2]));
          b.u32(4 * k + 256);
        }
        // ptr += 4; n -= 1; br_if n > 0
        b.bytes(new Uint8Array([0x20, 0, 0x41, 4, 0x6a, 0x21, 0, 0x20, 1, 0x41, 1, 0x6b, 0x22, 1, 0x41, 0, 0x4a, 0x0d, 0, 0x0b, 0x20, 2, 0x0b]));
      });
    }
  });
  return w.take() as Uint8Array<ArrayBuffer>;
}
