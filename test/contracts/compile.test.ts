import { describe, expect, it } from "vitest";
import { CONTRACT_MAGIC, CapKind, Direction, decodeContract } from "../../src/kernel/caps/contract.ts";
import { compileContract } from "../../src/contracts/compile.ts";
import { contractDigest } from "../../src/contracts/digest.ts";
import { ContractError } from "../../src/contracts/parse.ts";

const BLOCK = `
// the issue's example, filled in
contract BlockDevice {
  state Ready { Read? words 2 -> Reading; Write? words 2 caps(region) -> Writing; Info? -> Answering }
  state Reading { Data! caps(region) -> Ready; Failed! words 1 -> Ready }
  state Writing { Done! caps(region) -> Ready; Failed! words 1 -> Ready }
  state Answering { Info(9)! words 3 -> Ready }
}`;

/** The error a text gets: "line:column: reason". */
function refusal(text: string): string {
  try {
    compileContract(text);
  } catch (error) {
    if (error instanceof ContractError) return `${error.line}:${error.column}: ${error.reason}`;
    throw error;
  }
  throw new Error("compiled");
}

describe("the contract compiler", () => {
  it("compiles states, labels, directions, shapes and next states into a table the kernel decodes", () => {
    const compiled = compileContract(BLOCK);
    expect(compiled.states).toEqual(["Ready", "Reading", "Writing", "Answering"]);
    expect(compiled.table[0]).toBe(CONTRACT_MAGIC);
    expect(compiled.table[1]).toBe(compiled.table.length);
    const contract = decodeContract(compiled.table);
    if (typeof contract === "string") throw new Error(contract);
    expect(contract.name).toBe("BlockDevice");
    // Info was given 9 once: the name keeps it everywhere; the others are numbered from 1.
    expect(compiled.messages.map((m) => `${m.from}.${m.name}${m.direction}${m.label}`)).toEqual([
      "Ready.Read?1", "Ready.Write?2", "Ready.Info?9", "Reading.Data!3", "Reading.Failed!4", "Writing.Done!5", "Writing.Failed!4", "Answering.Info!9",
    ]);
    const write = contract.find(0, 2, Direction.TO_SERVER)!;
    expect(write).toMatchObject({ name: "Write", minWords: 2, maxWords: 2, minCaps: 1, maxCaps: 1, capKinds: [CapKind.REGION], next: 2 });
    expect(contract.find(0, 2, Direction.TO_CLIENT)).toBeNull();
    expect(contract.find(3, 9, Direction.TO_CLIENT)!.next).toBe(0);
    expect(contract.boundPerEndpoint).toBe(1);
  });

  it("derives the queue bound: the longest run of ? messages, none when ? messages cycle", () => {
    const twoSends = compileContract(`contract T { state A { Open? -> B } state B { More? -> C; Done! -> A } state C { Ok! -> A } }`);
    expect(twoSends.contract.boundPerEndpoint).toBe(2);
    const oneWay = compileContract(`contract Log { state Ready { Write? words 1..64 -> Ready } }`);
    expect(oneWay.contract.boundPerEndpoint).toBe(Infinity);
  });

  it("names optional capabilities, any and views", () => {
    const { contract } = compileContract(`contract C { state S { M? caps(receiver, view?, any?) -> T } state T { R! -> S } }`);
    expect(contract.find(0, 1, Direction.TO_SERVER)).toMatchObject({ minCaps: 1, maxCaps: 3, capKinds: [CapKind.RECEIVER, CapKind.VIEW, CapKind.ANY] });
  });

  it("refuses bad text with its line and column", () => {
    expect(refusal(`contract X {\n  state A { M? -> Nowhere }\n}`)).toBe("2:19: M leads to state Nowhere, which is not defined");
    expect(refusal(`contract X {\n  state A { M? -> A }\n  state A { N? -> A }\n}`)).toBe("3:9: state A is defined twice");
    expect(refusal(`contract X { state A { M?? -> A } }`)).toBe(`1:26: expected "->", found "?"`);
    expect(refusal(`contract X { state A { M -> A } }`)).toBe(`1:26: expected "?" (to the server) or "!" (to the client) after M, found "->"`);
    expect(refusal(`contract X { state A { M? words 3..2 -> A } }`)).toBe("1:27: words 3..2: a message carries 0 to 64 words, the least first");
    expect(refusal(`contract X { state A { M? words 65 -> A } }`)).toBe("1:27: words 65..65: a message carries 0 to 64 words, the least first");
    expect(refusal(`contract X { state A { M? caps(pixie) -> A } }`)).toMatch(/^1:32: unknown capability kind "pixie"/);
    expect(refusal(`contract X { state A { M? caps(page?, page) -> A } }`)).toBe("1:39: capability page is required but follows an optional one");
    expect(refusal(`contract X { state A { M? caps(page, page, page, page, page) -> A } }`)).toBe("1:27: 5 capabilities: a message carries at most 4");
    expect(refusal(`contract X { state A { M(1)? -> A; N(1)? -> A } }`)).toBe("1:36: state A allows N? and M?, both label 1");
    expect(refusal(`contract X { state A { M(1)? -> A } state B { M(2)? -> A } }`)).toBe("1:47: M is label 2 here and 1 at 1:24");
    expect(refusal(`contract X { state A { M(0xffff0000)? -> A } }`)).toBe("1:24: label 4294901760 is in the kernel's range (0xffff0000 and up)");
    expect(refusal(`contract X { state A { M? -> A } state B { N? -> A } }`)).toBe("1:40: state B is never reached: no message leads to it");
    expect(refusal(`contract X { state A { M? -> B; R! -> A } state B { S! -> A } }`)).toBe("1:33: R! is a reply, but no \"?\" message leads to state A: a reply answers a call");
    expect(refusal(`contract X { }`)).toBe("1:10: contract X has no state");
    expect(refusal(`contract X { state A { M? -> A } } contract Y`)).toBe(`1:36: one contract per text: found "contract" after its end`);
    expect(refusal(`contract X { state A { M? -> A } # }`)).toBe(`1:34: unexpected character "#"`);
    expect(refusal(`contract X { state A { M? -> A }`)).toBe(`1:33: expected "state" or "}", found the end of the text`);
    expect(refusal(`protocol X {}`)).toBe(`1:1: expected "contract", found "protocol"`);
    expect(refusal(`contract X { state A { M(99999999999)? -> A } }`)).toBe("1:26: 99999999999 is not a 32-bit number");
  });

  it("names the source file in an error when told it", () => {
    expect(() => compileContract(`contract X { state A { M? -> B } }`, "contracts/X.contract")).toThrow("contracts/X.contract:1:30: M leads to state B");
  });

  it("gives the same digest to the same table, another to any change", () => {
    const digest = contractDigest(BLOCK);
    expect(digest).toMatch(/^BlockDevice@[0-9a-f]{16}$/);
    expect(contractDigest(BLOCK.replace("// the issue's example, filled in", "//  reformatted").replaceAll("; ", ";\n    "))).toBe(digest);
    expect(contractDigest(BLOCK.replace("Read? words 2", "Read? words 2..3"))).not.toBe(digest);
    expect(contractDigest(BLOCK.replace("Info(9)!", "Info(9)! caps(any?)"))).not.toBe(digest);
  });
});

describe("the kernel's table decoder", () => {
  const table = () => compileContract(BLOCK).table.slice();

  it("refuses tables it cannot trust, naming the word", () => {
    const cases: Array<[string, (t: Uint32Array) => Uint32Array]> = [
      ["not the contract magic", (t) => ((t[0] = 7), t)],
      ["word 1 says", (t) => ((t[1] = 3), t)],
      ["states (1 to 64)", (t) => ((t[2] = 0), t)],
      ["next state", (t) => ((t[5 + 4 + 8 + 3] = 44), t)],
      ["in the kernel's range", (t) => ((t[5 + 4 + 8] = 0xffff_0001), t)],
      ["shape word", (t) => ((t[5 + 4 + 8 + 1] |= 2), t)],
      ["appears twice in the state", (t) => ((t[5 + 4 + 8 + 5] = t[5 + 4 + 8]!), t)],
      ["outside the text area", (t) => ((t[4] = 0xffff_0000), t)],
      ["at least 6 words", (t) => t.subarray(0, 3)],
    ];
    for (const [why, spoil] of cases) expect(decodeContract(spoil(table())), why).toEqual(expect.stringContaining(why));
  });

  it("survives random damage to a table: a Contract or a reason, never a throw", () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 3000; i++) {
      const t = table();
      for (let k = 0; k < 1 + Math.floor(random() * 3); k++) t[Math.floor(random() * t.length)] = Math.floor(random() * 2 ** 32);
      const result = decodeContract(t);
      expect(typeof result === "string" || result.states.length > 0).toBe(true);
    }
  });
});
