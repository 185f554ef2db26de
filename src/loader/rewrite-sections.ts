import type { CodeLayout } from "./output-layout.ts";
import { ByteReader } from "./wasm/byte-reader.ts";
import type { ByteWriter } from "./wasm/byte-writer.ts";
import { skipConstExpr, skipConstInstruction } from "./wasm/module-info.ts";
import { skipValueType } from "./wasm/value-types.ts";

/**
 * The parts of a module outside function bodies that name functions or globals, rewritten for the
 * output's index spaces (output-layout.ts): constant expressions (global initializers, table
 * initializers, element segments) and the element section.
 */

export function mapFunction(layout: CodeLayout, index: number): number {
  return index < layout.functionImports ? index : index + layout.addedImports;
}

/** Copies the constant expression `[start, end)` (its `end` included), renumbering global.get and ref.func. */
export function writeConstExpr(bytes: Uint8Array, [start, end]: readonly [number, number], layout: CodeLayout, out: ByteWriter): void {
  const r = new ByteReader(bytes, start, end);
  let run = start;
  while (!r.done) {
    const opStart = r.at;
    const op = r.u8();
    if (op === 0x23 || op === 0xd2) {
      const index = r.u32();
      out.copy(bytes, run, opStart);
      out.u8(op);
      out.u32(op === 0x23 ? index + layout.globalShift : mapFunction(layout, index));
      run = r.at;
    } else if (op !== 0x0b) skipConstInstruction(r, op);
  }
  out.copy(bytes, run, end);
}

/** The element section's payload, with every function index renumbered. */
export function writeElements(bytes: Uint8Array, start: number, end: number, layout: CodeLayout, out: ByteWriter): void {
  const r = new ByteReader(bytes, start, end);
  const count = r.count();
  out.u32(count);
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    out.u32(flags);
    if (flags > 7) r.fail(`unknown element segment flags ${flags}`);
    const active = (flags & 1) === 0;
    const explicitTable = (flags & 2) !== 0;
    const expressions = (flags & 4) !== 0;
    if (active && explicitTable) out.u32(r.u32());
    if (active) writeConstExpr(bytes, skipConstExpr(r), layout, out);
    // Element kind (0x00, funcref) or reference type, except in the two short forms (0 and 4).
    if (flags !== 0 && flags !== 4) {
      const typeStart = r.at;
      if (expressions) skipValueType(r);
      else r.u8();
      out.copy(bytes, typeStart, r.at);
    }
    const items = r.count();
    out.u32(items);
    for (let k = 0; k < items; k++) {
      if (expressions) writeConstExpr(bytes, skipConstExpr(r), layout, out);
      else out.u32(mapFunction(layout, r.u32()));
    }
  }
  if (!r.done) r.fail("bytes after the element segments");
}

