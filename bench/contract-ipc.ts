// Contract channels: the call/reply round trip through a Receiver with a contract (every call and
// reply checked against the endpoint's state, the state advanced, the Reply remembering where the
// endpoint stood) beside the same round trip through a plain Receiver, in the same run and the
// same machine, samples interleaved. The goal (issue 13): at most 1.2x.
import { decodeContract } from "../src/kernel/caps/contract.ts";
import { Rights } from "../src/kernel/caps/object-abi.ts";
import { compileContract } from "../src/contracts/compile.ts";
import { median, result, type Section } from "./harness.ts";
import { DogmaIpc } from "./ipc.ts";

const RUNS = 5;
const TRIPS = 100_000;

/** The ipc bench's client calls with label 7 and its server answers label 8, any words. */
const ECHO = `
contract Echo {
  state Ready { Request(7)? words 0..64 -> Answering }
  state Answering { Answer(8)! words 0..64 -> Ready }
}`;

/**
 * Echo in a state as large as ProcessManager's (contracts/procman.contract): 18 requests in Ready,
 * 14 answers in the answer state, so that the lookup costs what a call to the process manager's does.
 */
const PROCMAN_SHAPED = `
contract ProcmanShaped {
  state Ready {
    A1(1)? -> Answering; A2(2)? words 2..17 -> Answering; A3(3)? words 2..10 -> Answering; A4(4)? words 1 -> Answering;
    A5(5)? words 1..4 -> Answering; A6(6)? -> Answering; Request(7)? words 0..64 -> Answering; A8(8)? words 1 -> Answering;
    A16(16)? words 2..64 -> Answering; A17(17)? -> Answering; A18(18)? -> Answering; A19(19)? -> Answering;
    A20(20)? -> Answering; A21(21)? -> Answering; A22(22)? -> Answering; A23(23)? -> Answering;
    A24(24)? -> Answering; A25(25)? -> Answering;
  }
  state Answering {
    F1(1)! -> Ready; F2(2)! -> Ready; F3(3)! -> Ready; F4(4)! -> Ready; F5(5)! -> Ready; F6(6)! -> Ready;
    F7(7)! -> Ready; Answer(8)! words 0..64 -> Ready; F9(9)! -> Ready; F10(10)! -> Ready; F11(11)! -> Ready;
    F12(12)! -> Ready; F13(13)! -> Ready; F0(0)! -> Ready;
  }
}`;

export async function contractIpc(): Promise<Section> {
  const d = new DogmaIpc();
  await d.load();
  const contract = decodeContract(compileContract(ECHO).table);
  if (typeof contract === "string") throw new Error(`bench bug: ${contract}`);
  const procmanShaped = decodeContract(compileContract(PROCMAN_SHAPED).table);
  if (typeof procmanShaped === "string") throw new Error(`bench bug: ${procmanShaped}`);

  /** ns per round trip of `words` words each way, through a Receiver with the contract or without. */
  const trip = async (words: number, contracted: boolean, large = false): Promise<number> => {
    const receiver = d.receiver();
    if (contracted) receiver.setContract(large ? procmanShaped : contract);
    const client = d.kernel.capability(receiver, Rights.RECEIVER_CALL, 1);
    if (contracted && client.endpoint === null) throw new Error("bench bug: the client's capability is no contract endpoint");
    const { ms } = await d.run(`${contracted ? "contract" : "plain"} call/reply ${words} words`, {
      entry: "serve", args: [2, TRIPS], caps: [d.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], ok: (v) => v === TRIPS,
    }, [{ entry: "run", args: [2, TRIPS, words], caps: [client], ok: (v) => v === TRIPS }]);
    return (ms * 1e6) / TRIPS;
  };

  const samples = new Map<string, number[]>();
  const cases: Array<[string, number, boolean, boolean]> = [
    ["plain 0", 0, false, false], ["contract 0", 0, true, false], ["procman-shaped 0", 0, true, true],
    ["plain 64", 64, false, false], ["contract 64", 64, true, false],
  ];
  for (let run = -1; run < RUNS; run++) {
    for (const [name, words, contracted, large] of cases) {
      const value = await trip(words, contracted, large);
      if (run >= 0) samples.set(name, [...(samples.get(name) ?? []), value]);
    }
  }
  const m = (name: string) => median(samples.get(name)!);
  return {
    title: `Contract channels (ns per call/reply round trip, median of ${RUNS}; samples interleaved)`,
    results: [
      result("contract channel round trip, 0 words", m("contract 0"), "ns", "plain call/reply, 0 words", m("plain 0")),
      result("contract channel round trip, 64 words", m("contract 64"), "ns", "plain call/reply, 64 words", m("plain 64")),
      result("round trip on a state as large as ProcessManager's, 0 words", m("procman-shaped 0"), "ns", "plain call/reply, 0 words", m("plain 0")),
    ],
    notes: [
      "Contract Echo (Request? then Answer!): the kernel looks each call and each reply up in the endpoint's state, checks words and capabilities, advances the state. Goal: ratio at most 1.2.",
    ],
  };
}
