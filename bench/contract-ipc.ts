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

export async function contractIpc(): Promise<Section> {
  const d = new DogmaIpc();
  await d.load();
  const contract = decodeContract(compileContract(ECHO).table);
  if (typeof contract === "string") throw new Error(`bench bug: ${contract}`);

  /** ns per round trip of `words` words each way, through a Receiver with the contract or without. */
  const trip = async (words: number, contracted: boolean): Promise<number> => {
    const receiver = d.receiver();
    if (contracted) receiver.setContract(contract);
    const client = d.kernel.capability(receiver, Rights.RECEIVER_CALL, 1);
    if (contracted && client.endpoint === null) throw new Error("bench bug: the client's capability is no contract endpoint");
    const { ms } = await d.run(`${contracted ? "contract" : "plain"} call/reply ${words} words`, {
      entry: "serve", args: [2, TRIPS], caps: [d.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], ok: (v) => v === TRIPS,
    }, [{ entry: "run", args: [2, TRIPS, words], caps: [client], ok: (v) => v === TRIPS }]);
    return (ms * 1e6) / TRIPS;
  };

  const samples = new Map<string, number[]>();
  const cases: Array<[string, number, boolean]> = [["plain 0", 0, false], ["contract 0", 0, true], ["plain 64", 64, false], ["contract 64", 64, true]];
  for (let run = -1; run < RUNS; run++) {
    for (const [name, words, contracted] of cases) {
      const value = await trip(words, contracted);
      if (run >= 0) samples.set(name, [...(samples.get(name) ?? []), value]);
    }
  }
  const m = (name: string) => median(samples.get(name)!);
  return {
    title: `Contract channels (ns per call/reply round trip, median of ${RUNS}; samples interleaved)`,
    results: [
      result("contract channel round trip, 0 words", m("contract 0"), "ns", "plain call/reply, 0 words", m("plain 0")),
      result("contract channel round trip, 64 words", m("contract 64"), "ns", "plain call/reply, 64 words", m("plain 64")),
    ],
    notes: [
      "Contract Echo (Request? then Answer!): the kernel looks each call and each reply up in the endpoint's state, checks words and capabilities, advances the state. Goal: ratio at most 1.2.",
    ],
  };
}
