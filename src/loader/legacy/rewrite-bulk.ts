import { PAGE_SHIFT, PAGE_SIZE, TLB_BYTES, TLB_INDEX_MASK } from "../../kernel/constants.ts";
import { binaryen, type BinaryenModule, type ExpressionRef } from "./binaryen.ts";
import { PHYSICAL_MEMORY, TLB_GLOBAL, mmuFunction } from "./rewrite-memory.ts";

/** Functions the loader adds to every module; the rewriter calls them in place of bulk memory instructions. */
export const COPY_HELPER = "dogma$copy";
export const FILL_HELPER = "dogma$fill";

/**
 * memory.copy and memory.fill whose ranges each lie within one page that the TLB maps run as one
 * native instruction on the frames; anything else goes to the kernel, which checks the whole
 * range before writing (WebAssembly forbids partial writes). Most copies a compiler emits are
 * small, so most never leave the module.
 */
export function addBulkHelpers(m: BinaryenModule): void {
  const i32 = binaryen.i32;
  const get = (index: number) => m.local.get(index, i32);
  const entry = (address: ExpressionRef) =>
    m.i32.add(m.global.get(TLB_GLOBAL, i32), m.i32.and(m.i32.shr_u(address, m.i32.const(PAGE_SHIFT - 3)), m.i32.const(TLB_INDEX_MASK)));
  const pageOf = (address: ExpressionRef) => m.i32.and(address, m.i32.const(~(PAGE_SIZE - 1)));
  const fitsInPage = (address: ExpressionRef, length: ExpressionRef) =>
    m.i32.le_u(length, m.i32.sub(m.i32.const(PAGE_SIZE), m.i32.and(address, m.i32.const(PAGE_SIZE - 1))));
  const missesUnless = (condition: ExpressionRef) => m.br("slow", m.i32.eqz(condition));

  // (dest, src, n; destEntry, srcEntry)
  m.addFunction(COPY_HELPER, binaryen.createType([i32, i32, i32]), binaryen.none, [i32, i32], m.block(null, [
    m.block("slow", [
      missesUnless(fitsInPage(get(0), get(2))),
      missesUnless(fitsInPage(get(1), get(2))),
      m.local.set(3, entry(get(0))),
      m.local.set(4, entry(get(1))),
      missesUnless(m.i32.eq(m.i32.load(TLB_BYTES, 4, get(3), PHYSICAL_MEMORY), pageOf(get(0)))),
      missesUnless(m.i32.eq(m.i32.load(0, 4, get(4), PHYSICAL_MEMORY), pageOf(get(1)))),
      m.memory.copy(
        m.i32.add(get(0), m.i32.load(TLB_BYTES + 4, 4, get(3), PHYSICAL_MEMORY)),
        m.i32.add(get(1), m.i32.load(4, 4, get(4), PHYSICAL_MEMORY)),
        get(2),
        PHYSICAL_MEMORY,
        PHYSICAL_MEMORY,
      ),
      m.return(),
    ]),
    m.call(mmuFunction("memory_copy"), [get(0), get(1), get(2)], binaryen.none),
  ]));

  // (dest, value, n; destEntry)
  m.addFunction(FILL_HELPER, binaryen.createType([i32, i32, i32]), binaryen.none, [i32], m.block(null, [
    m.block("slow", [
      missesUnless(fitsInPage(get(0), get(2))),
      m.local.set(3, entry(get(0))),
      missesUnless(m.i32.eq(m.i32.load(TLB_BYTES, 4, get(3), PHYSICAL_MEMORY), pageOf(get(0)))),
      m.memory.fill(m.i32.add(get(0), m.i32.load(TLB_BYTES + 4, 4, get(3), PHYSICAL_MEMORY)), get(1), get(2), PHYSICAL_MEMORY),
      m.return(),
    ]),
    m.call(mmuFunction("memory_fill"), [get(0), get(1), get(2)], binaryen.none),
  ]));
}
