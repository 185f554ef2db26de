/**
 * Contract channels under fire. Fuzzing clients send and call random labels with random word
 * counts and capabilities through contract endpoints while a server answers with labels some of
 * which its state forbids; the server logs everything it receives and every reply's status. What
 * must hold: each message the server saw, and each reply the kernel let through, is one the
 * contract allowed in the state a model of that endpoint was in (the model runs the contract over
 * the server's log alone); every reply the kernel refused is one the model forbids; the server
 * never breaks; the kernel's invariants hold throughout (src/kernel/invariants.ts, which recounts
 * the contract's queue slots). Then a stress test: senders fill a Receiver sized from its
 * contract's bound with a slow server, and no send ever finds the queue full.
 *
 * A failure names its seed; rerun one with CONTRACT_FUZZ_SEED=<seed>.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { decodeContract, Direction, type Contract } from "../../src/kernel/caps/contract.ts";
import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { PageObject } from "../../src/kernel/caps/page.ts";
import { Status } from "../../src/kernel/errors.ts";
import { compileContract } from "../../src/contracts/compile.ts";
import { prng } from "../caps/prng.ts";
import { BUF, R0, Script, type ScriptMachine, makeReceiver, runCheckingInvariants, scriptMachine } from "../caps/script.ts";

const COUNTER = `
contract Counter {
  state Idle { Ping(1)? words 0..2 -> Answering; Open(2)? words 1 -> Opening; Note(6)? words 1..3 -> Idle; Ack(16)! -> Idle }
  state Answering { Pong(11)! words 0..2 -> Idle }
  state Opening { Opened(12)! -> Opened }
  state Opened { Add(3)? words 1 -> Adding; Close(4)? -> Closing; Page(5)? caps(page) -> Adding }
  state Adding { Sum(13)! words 1 -> Opened; Overflow(14)! -> Opened }
  state Closing { Closed(15)! -> Idle }
}`;
const FUZZERS = 5;
/** The server's log ids: its PROCESS_LISTEN, its receive; its reply attempts follow. */
const LISTEN_ID = 1;
const RECEIVE_ID = 2;
const INVOKES = 120;
const DEFAULT_SEEDS = [0xc0de_0001, 0xc0de_0002];
const SEEDS = process.env.CONTRACT_FUZZ_SEED ? [Number(process.env.CONTRACT_FUZZ_SEED)] : DEFAULT_SEEDS;

function contractOf(text: string): Contract {
  const contract = decodeContract(compileContract(text).table);
  if (typeof contract === "string") throw new Error(contract);
  return contract;
}

/**
 * The system's contracts the fuzzer runs beside Counter (a contract of its own that has every
 * shape: one-way sends, a cycle, a capability kind): the registry's, the console's and the file
 * system's (contracts/*.contract), each on a Receiver of its own with the scripted server below in
 * place of the real one, which the kernel holds to the contract as it holds the real one.
 */
const SYSTEM_CONTRACTS = ["registry", "console", "fs"];
const root = join(import.meta.dirname, "../..");

/** The labels a fuzzer picks from most of the time: the contract's own, both ways (a reply label sent as a request must be refused). */
function labelsOf(contract: Contract): number[] {
  return [...new Set(contract.states.flat().map((m) => m.label))];
}

/**
 * The answers the server tries after the two it gets wrong on purpose: each reply label of the
 * contract with the fewest words some state takes it with (a label whose states differ in words is
 * tried once for each), none with capabilities; so every answering state has one that fits.
 */
function replyAttempts(contract: Contract): [number, number][] {
  const seen = new Set<string>();
  const attempts: [number, number][] = [];
  for (const m of contract.states.flat()) {
    if (m.direction !== Direction.TO_CLIENT || m.minCaps > 0) continue;
    const key = `${m.label}/${m.minWords}`;
    if (seen.has(key)) continue;
    seen.add(key);
    attempts.push([m.label, m.minWords]);
  }
  return attempts;
}

/** A fuzzing client: slot 2 a call and send capability (badge 2i), slot 3 a send capability (badge 2i+1), slot 4 a Page. */
function fuzzer(seed: number, labels: readonly number[]): Script {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const s = new Script();
  for (let i = 0; i < INVOKES; i++) {
    const label = random() < 0.85 ? pick(labels) : Math.floor(random() * 0xffff_0000);
    const words = Array.from({ length: pick([0, 0, 1, 1, 1, 2, 3, 5]) }, () => Math.floor(random() * 100));
    const caps = random() < 0.8 ? [] : [pick([1, 4, 4, 2, 999])];
    s.invoke(pick([2, 2, 3]), label, { words, caps, dump: false });
  }
  s.end();
  return s;
}

/**
 * The server: listens, then receives for ever; a call is answered first with the request's own
 * label (a `?` label, which no reply may be), then with its label + 10, both with one word, which
 * the state may forbid, then with each of `attempts` (label, words) in turn until one is taken.
 */
function server(attempts: readonly [number, number][]): Script {
  const s = new Script();
  const reply = s.reg();
  const label = s.reg();
  const loop = s.label();
  // Listening, so that it sees the capabilities messages carry (else they arrive as none).
  s.invoke(1, Op.PROCESS_LISTEN, { words: [1], dump: false });
  s.bind(loop);
  s.invoke(2, Op.RECEIVER_RECEIVE);
  s.load(reply, BUF + 16);
  s.ifEqual(reply, 0, loop);
  s.load(label, BUF);
  s.store(BUF, [label, 1, 0, 0, 0, 7]);
  s.invoke(reply, 0, { noWrite: true, dump: false });
  s.ifEqual(R0, 0, loop);
  s.add(label, 10);
  s.store(BUF, [label, 1, 0, 0, 0, 7]);
  s.invoke(reply, 0, { noWrite: true, dump: false });
  s.ifEqual(R0, 0, loop);
  for (const [replyLabel, words] of attempts) {
    s.invoke(reply, replyLabel, { words: new Array<number>(words).fill(7), dump: false });
    s.ifEqual(R0, 0, loop);
  }
  s.jump(loop);
  return s;
}

async function fuzz(seed: number, text: string) {
  const m: ScriptMachine = await scriptMachine();
  const contract = contractOf(text);
  const attempts = replyAttempts(contract);
  const receiver = makeReceiver(m, 4 * FUZZERS);
  receiver.setContract(contract);
  const sp = m.spawn(server(attempts), { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], priority: 4 });
  const fuzzers = Array.from({ length: FUZZERS }, (_, i) => {
    const frame = m.kernel.services.sharedFrames.allocate()!;
    m.kernel.services.memory.zeroFrame(frame);
    const page = new PageObject(m.kernel.services, frame);
    m.kernel.rootMemory.adopt(page, 1);
    return m.spawn(fuzzer(seed + i, labelsOf(contract)), {
      caps: [
        m.kernel.capability(receiver, Rights.RECEIVER_CALL | Rights.RECEIVER_SEND, 2 * i),
        m.kernel.capability(receiver, Rights.RECEIVER_SEND, 2 * i + 1),
        m.kernel.capability(page, 0xffff_ffff),
      ],
      priority: 3,
    });
  });
  const broken = await runCheckingInvariants(m, fuzzers, 2);
  return { m, sp, contract, attempts, broken };
}

/**
 * Runs the contract over the server's log: each message received must be one the state of its
 * endpoint (its badge) allows, and each reply must have been taken exactly when the model allows it.
 */
function replay(contract: Contract, attempts: readonly [number, number][], lines: number[][]): string[] {
  const wrong: string[] = [];
  const state = new Map<number, number>();
  let call: { badge: number; label: number } | null = null;
  for (const line of lines) {
    const [, id, status] = line as [number, number, number];
    if (id === LISTEN_ID) continue;
    if (id === RECEIVE_ID) {
      if (status !== 0) continue;
      const [, , , label, n, c, badge, replyCap] = line as number[] as [number, number, number, number, number, number, number, number];
      const at = state.get(badge) ?? 0;
      const allowed = contract.find(at, label, Direction.TO_SERVER);
      if (!allowed || n < allowed.minWords || n > allowed.maxWords || c < allowed.minCaps || c > allowed.maxCaps) {
        wrong.push(`endpoint ${badge} in state ${contract.stateNames[at]} was sent label ${label} with ${n} words and ${c} capabilities`);
        continue;
      }
      state.set(badge, allowed.next);
      call = replyCap !== 0 ? { badge, label } : null;
      continue;
    }
    if (call === null) {
      wrong.push(`a reply attempt (id ${id}) with no call pending`);
      continue;
    }
    const attempt = id - RECEIVE_ID - 1;
    const tried = attempt === 0 ? call.label : attempt === 1 ? call.label + 10 : attempts[attempt - 2]![0];
    const words = attempt <= 1 ? 1 : attempts[attempt - 2]![1];
    const at = state.get(call.badge)!;
    const allowed = contract.find(at, tried, Direction.TO_CLIENT);
    // The server's answers bring no capability: one the state's message requires does not fit.
    const fits = allowed !== null && words >= allowed.minWords && words <= allowed.maxWords && allowed.minCaps === 0;
    if ((status === 0) !== fits) wrong.push(`endpoint ${call.badge} in state ${contract.stateNames[at]}: reply ${tried} with ${words} words answered ${status}`);
    if (status === 0 && fits) {
      state.set(call.badge, allowed!.next);
      call = null;
    }
  }
  return wrong;
}

const FUZZED: [string, string][] = [
  ["Counter", COUNTER],
  ...SYSTEM_CONTRACTS.map((name): [string, string] => [name, readFileSync(join(root, "contracts", `${name}.contract`), "utf8")]),
];

describe("contract channels under fuzzing", () => {
  for (const [name, text] of FUZZED) {
    for (const seed of SEEDS) {
      it(`lets nothing but what contract ${name} allows reach the server, and breaks nothing (seed ${seed})`, async () => {
        const { m, sp, contract, attempts, broken } = await fuzz(seed, text);
        expect(broken, `seed ${seed}`).toEqual([]);
        expect(sp.alive, `seed ${seed}: the server must still be serving`).toBe(true);
        const lines = m.stdout().split("\n").filter((l) => l.length > 0).map((l) => l.split(" ").map((h) => Number.parseInt(h, 16) | 0));
        const serverLines = lines.filter((l) => l[0] === sp.pid);
        const received = serverLines.filter((l) => l[1] === RECEIVE_ID && l[2] === 0);
        expect(received.length, `seed ${seed}: some messages must get through`).toBeGreaterThan(20);
        // And the fuzzers were refused often: the contract was tested, not just obeyed.
        const refused = lines.filter((l) => l[0] !== sp.pid && l[2] === Status.E_CONTRACT).length;
        expect(refused, `seed ${seed}`).toBeGreaterThan(FUZZERS * INVOKES / 4);
        expect(replay(contract, attempts, serverLines), `seed ${seed}`).toEqual([]);
        m.kernel.kill(sp.pid);
      });
    }
  }
});

/** Three one-way Items at most, then a Sync that is a call: every cycle has a message each way, so an endpoint has at most 4 messages on their way. */
const FEED = `
contract Feed {
  state Idle { Item(1)? words 1 -> One; Sync(9)? -> Syncing }
  state One { Item(1)? words 1 -> Two; Sync(9)? -> Syncing }
  state Two { Item(1)? words 1 -> Three; Sync(9)? -> Syncing }
  state Three { Sync(9)? -> Syncing }
  state Syncing { Synced(10)! -> Idle }
}`;
const SENDERS = 8;
const ROUNDS = 40;

describe("queues sized from a contract", () => {
  it("never overflow: senders that fill the queue before a slow server runs never find it full", async () => {
    const m = await scriptMachine();
    const contract = contractOf(FEED);
    expect(contract.boundPerEndpoint).toBe(4);
    const receiver = makeReceiver(m, contract.boundPerEndpoint * SENDERS);
    receiver.setContract(contract);
    const srv = new Script();
    const reply = srv.reg();
    const loop = srv.label();
    srv.bind(loop);
    const info = srv.invoke(2, Op.RECEIVER_INFO);
    srv.invoke(2, Op.RECEIVER_RECEIVE, { dump: false });
    srv.load(reply, BUF + 16);
    srv.ifEqual(reply, 0, loop);
    srv.invoke(reply, 10, { dump: false });
    srv.jump(loop);
    // The server runs only when every sender waits for its Sync: the queue fills first.
    const sp = m.spawn(srv, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], priority: 5 });
    const caps = Array.from({ length: SENDERS }, (_, i) => m.kernel.capability(receiver, Rights.RECEIVER_SEND | Rights.RECEIVER_CALL, i));
    expect(caps.every((cap) => cap.endpoint!.reserved)).toBe(true);
    // One more endpoint is reserved too, beyond the queue's capacity: nobody's copies use up a server's queue.
    const extra = new Capability(receiver, Rights.RECEIVER_SEND);
    expect(extra.endpoint!.reserved).toBe(true);
    extra.dispose();
    const senders = caps.map((cap) => {
      const s = new Script();
      const round = s.reg(0);
      const again = s.label();
      s.bind(again);
      for (let k = 0; k < 3; k++) s.invoke(2, 1, { words: [k], dump: false });
      s.invoke(2, 9, { dump: false });
      s.add(round, 1);
      s.ifLess(round, ROUNDS, again);
      s.end();
      return m.spawn(s, { caps: [cap], priority: 2 });
    });
    expect(await runCheckingInvariants(m, senders, 2)).toEqual([]);
    const lines = m.stdout().split("\n").filter((l) => l.length > 0).map((l) => l.split(" ").map((h) => Number.parseInt(h, 16) | 0));
    const senderPids = new Set(senders.map((p) => p.pid));
    const statuses = lines.filter((l) => senderPids.has(l[0]!)).map((l) => l[2]!);
    expect(statuses.length).toBe(SENDERS * ROUNDS * 4);
    expect(statuses.filter((status) => status !== 0)).toEqual([]);
    const queued = lines.filter((l) => l[0] === sp.pid && l[1] === info).map((l) => l[8]!);
    // It did fill: all but the message handed straight to the waiting server were queued at once.
    expect(Math.max(...queued)).toBeGreaterThanOrEqual(contract.boundPerEndpoint * SENDERS - 1);
    expect(Math.max(...queued)).toBeLessThanOrEqual(receiver.capacity);
    m.kernel.kill(sp.pid);
  });
});
