import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileContract } from "../../src/contracts/compile.ts";
import { type Contract, type ContractMessage, Direction } from "../../src/kernel/caps/contract.ts";

/**
 * The stream protocol (docs/PROGRAMS.md) is no contract of its own: each server a stream can be
 * (the console, a pipe's end, a file's handle) lists its three messages in its contract's first
 * state (docs/CONTRACTS.md "The stream protocol"). A stream's client (libdogma's streams.ts, the
 * WASI personality) speaks to whichever it holds, so the three contracts must agree on them.
 */
const root = join(import.meta.dirname, "../..");
const contractOf = (file: string): Contract => compileContract(readFileSync(join(root, "contracts", file), "utf8"), file).contract;
const STREAM_SERVERS = ["console.contract", "pipe.contract", "fs.contract"];
const WRITE = 0x1001;
const READ = 0x1002;
const INFO = 0x1003;

function request(contract: Contract, label: number): ContractMessage {
  const found = contract.find(0, label, Direction.TO_SERVER);
  if (found === null) throw new Error(`contract ${contract.name} does not allow the stream's label ${label.toString(16)} in its first state`);
  return found;
}

/** The shape of the success answer (label 0) to a stream request. */
function success(contract: Contract, label: number): [number, number, number] {
  const answer = contract.find(request(contract, label).next, 0, Direction.TO_CLIENT);
  if (answer === null) throw new Error(`contract ${contract.name} has no answer 0 to the stream's label ${label.toString(16)}`);
  return [answer.minWords, answer.maxWords, answer.maxCaps];
}

describe("the stream protocol in the contracts of its servers", () => {
  for (const file of STREAM_SERVERS) {
    it(`${file} lists WRITE, READ and INFO with the stream's shapes, and their answers`, () => {
      const contract = contractOf(file);
      const shape = (label: number) => {
        const m = request(contract, label);
        return [m.minWords, m.maxWords, m.maxCaps];
      };
      expect(shape(WRITE)).toEqual([1, 64, 0]);
      expect(shape(READ)).toEqual([1, 1, 0]);
      expect(shape(INFO)).toEqual([0, 0, 0]);
      // Bytes taken; the count and the bytes; kind, readable, room. (FileSystem's one answer state
      // allows more words than each needs: docs/CONTRACTS.md "FileSystem".)
      const [writeMin, writeMax] = success(contract, WRITE);
      expect(writeMin <= 1 && writeMax >= 1).toBe(true);
      const [readMin, readMax] = success(contract, READ);
      expect(readMin <= 1 && readMax === 64).toBe(true);
      const [infoMin, infoMax] = success(contract, INFO);
      expect(infoMin <= 3 && infoMax >= 3).toBe(true);
      expect(contract.boundPerEndpoint).toBe(1);
    });
  }

  it("fails for a server contract that leaves INFO out (the check can fail)", () => {
    const text = readFileSync(join(root, "contracts", "console.contract"), "utf8").replace(/\s*StreamInfo\(0x1003\)\? -> Informing;/, "").replace(/state Informing \{[^}]*\}/, "");
    expect(() => request(compileContract(text).contract, INFO)).toThrow(/does not allow the stream's label 1003/);
  });
});
