/**
 * Contract channels (docs/ABI.md "Contract channels"): a Receiver with a contract checks every
 * send, call and reply through its endpoints against the state each endpoint is in; what the
 * state forbids is E_CONTRACT, nothing is delivered, and the refusal says contract, state and
 * message. Queue slots are reserved per endpoint from the contract's bound; a contract of calls
 * only reserves nothing, and its calls wait for room in a full queue instead.
 */
import { describe, expect, it } from "vitest";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { decodeContract, type Contract } from "../../src/kernel/caps/contract.ts";
import { ObjectKind, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { compileContract } from "../../src/contracts/compile.ts";
import { ALL, BUF, SCRATCH, Script, type ScriptMachine, makeReceiver, runAll, runCheckingInvariants, scriptMachine } from "./script.ts";

export const COUNTER = `
contract Counter {
  state Idle { Ping(1)? words 0..2 -> Answering; Open(2)? words 1 -> Opening }
  state Answering { Pong(11)! words 0..2 -> Idle }
  state Opening { Opened(12)! -> Opened }
  state Opened { Add(3)? words 1 -> Adding; Close(4)? -> Closing; Page(5)? caps(page) -> Adding }
  state Adding { Sum(13)! words 1 -> Opened; Overflow(14)! -> Opened }
  state Closing { Closed(15)! -> Idle }
}`;
const L = { Ping: 1, Open: 2, Add: 3, Close: 4, Page: 5, Pong: 11, Opened: 12, Sum: 13, Overflow: 14, Closed: 15 };

/** A call, and a one-way Note after which the endpoint may say nothing more: bound 1, and not calls only (its slots are reserved). */
const NOTE = `
contract Note {
  state Ready { Ping(1)? words 0..2 -> Answering; Note(6)? words 1 -> Noted }
  state Answering { Pong(11)! words 0..2 -> Ready }
  state Noted { }
}`;

/** One-way messages, and a flush that must be a call: its ? messages cycle, so no queue bound follows. */
const STREAM = `
contract Stream {
  state Open { Data(1)? words 1..4 -> Open; Flush(2)? -> Flushing; End(3)? -> Ended }
  state Flushing { Flushed(4)! -> Open }
  state Ended { }
}`;

function counter(): Contract {
  return contractOf(COUNTER);
}

function contractOf(text: string): Contract {
  const contract = decodeContract(compileContract(text).table);
  if (typeof contract === "string") throw new Error(contract);
  return contract;
}

/** A Receiver with the Counter contract, set by the host. */
function contracted(m: ScriptMachine, capacity = 16): Receiver {
  const receiver = makeReceiver(m, capacity);
  receiver.setContract(counter());
  return receiver;
}

/** Decodes PROCESS_CONTRACT_REFUSAL's answer words. */
function refusalText(words: number[]): string {
  const length = words[3]!;
  const bytes = new Uint8Array(new Uint32Array(words.slice(4)).buffer).subarray(0, length);
  return new TextDecoder().decode(bytes);
}

describe("a contract channel between two processes", () => {
  it("delivers only what each state allows; the server never sees a refused message", async () => {
    const m = await scriptMachine();
    const receiver = contracted(m);
    const server = new Script();
    const got: number[] = [];
    const replies: number[] = [];
    const reply = server.reg();
    // Ping, Open, Add, Close: the only messages that may arrive.
    for (const answerWith of [[L.Pong], [L.Opened], [L.Pong, L.Sum], [L.Closed]]) {
      got.push(server.invoke(2, Op.RECEIVER_RECEIVE));
      server.load(reply, BUF + 16);
      for (const label of answerWith) replies.push(server.invoke(reply, label, { words: label === L.Sum ? [7] : [] }));
    }
    const nothingElse = server.invoke(2, Op.RECEIVER_RECEIVE, { words: [0, 0] });
    const serverRefusal = server.invoke(1, Op.PROCESS_CONTRACT_REFUSAL);
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });

    const client = new Script();
    const addInIdle = client.invoke(2, L.Add, { words: [1] });
    const refusal = client.invoke(1, Op.PROCESS_CONTRACT_REFUSAL);
    const replyLabel = client.invoke(2, L.Pong);
    const ping = client.invoke(2, L.Ping, { words: [5] });
    const pingTooLong = client.invoke(2, L.Ping, { words: [1, 2, 3] });
    const open = client.invoke(2, L.Open, { words: [1] });
    const openAgain = client.invoke(2, L.Open, { words: [1] });
    const openRefusal = client.invoke(1, Op.PROCESS_CONTRACT_REFUSAL);
    const pageNoCap = client.invoke(2, L.Page);
    const pageWrongKind = client.invoke(2, L.Page, { caps: [1] });
    const add = client.invoke(2, L.Add, { words: [6] });
    const close = client.invoke(2, L.Close);
    client.end();
    const call = m.kernel.capability(receiver, Rights.RECEIVER_CALL, 3);
    const cp = m.spawn(client, { caps: [call] });
    expect((await runAll(m)).length).toBe(0);
    const log = m.log();

    expect(log.status(cp, addInIdle)).toBe(Status.E_CONTRACT);
    const why = log.answer(cp, refusal).words;
    expect(why.slice(0, 3)).toEqual([0, L.Add, 0]);
    expect(refusalText(why)).toBe("contract Counter, state Idle: does not allow Add? (label 3) (allowed: Ping?, Open?)");
    expect(log.status(cp, replyLabel)).toBe(Status.E_CONTRACT);
    expect(log.answer(cp, ping)).toMatchObject({ status: 0, label: L.Pong });
    expect(log.status(cp, pingTooLong)).toBe(Status.E_CONTRACT);
    expect(log.answer(cp, open)).toMatchObject({ status: 0, label: L.Opened });
    expect(log.status(cp, openAgain)).toBe(Status.E_CONTRACT);
    expect(refusalText(log.answer(cp, openRefusal).words)).toBe("contract Counter, state Opened: does not allow Open? (label 2) (allowed: Add?, Close?, Page?)");
    expect(log.status(cp, pageNoCap)).toBe(Status.E_CONTRACT);
    expect(log.status(cp, pageWrongKind)).toBe(Status.E_CONTRACT);
    expect(log.answer(cp, add)).toMatchObject({ status: 0, label: L.Sum, words: [7] });
    expect(log.answer(cp, close)).toMatchObject({ status: 0, label: L.Closed });

    expect(got.map((id) => log.answer(sp, id).label)).toEqual([L.Ping, L.Open, L.Add, L.Close]);
    expect(got.map((id) => log.answer(sp, id).badge)).toEqual([3, 3, 3, 3]);
    // The server's Pong to Add was refused (Adding allows Sum! and Overflow!) and it kept the reply.
    expect(replies.map((id) => log.status(sp, id))).toEqual([0, 0, Status.E_CONTRACT, 0, 0]);
    expect(log.status(sp, nothingElse)).toBe(Status.E_TIMEOUT);
    expect(refusalText(log.answer(sp, serverRefusal).words)).toBe("contract Counter, state Adding: does not allow Pong! (label 11) (allowed: Sum!, Overflow!)");
  });

  it("puts an endpoint back where it stood when its call is never answered", async () => {
    const m = await scriptMachine();
    const receiver = contracted(m);
    const server = new Script();
    const reply = server.reg();
    server.invoke(2, Op.RECEIVER_RECEIVE);
    server.load(reply, BUF + 16);
    server.invoke(reply, Op.CAP_DROP);
    server.invoke(2, Op.RECEIVER_RECEIVE);
    server.load(reply, BUF + 16);
    const answered = server.invoke(reply, L.Pong);
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const client = new Script();
    const dropped = client.invoke(2, L.Ping);
    const again = client.invoke(2, L.Ping);
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    expect((await runAll(m)).length).toBe(0);
    const log = m.log();
    expect(log.status(cp, dropped)).toBe(Status.E_PEER_DEAD);
    expect(log.answer(cp, again)).toMatchObject({ status: 0, label: L.Pong });
    expect(log.status(sp, answered)).toBe(0);
  });

  it("makes a copy of an endpoint an endpoint of its own, starting where the original stands; sends and calls each where they belong", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const stream = decodeContract(compileContract(STREAM).table) as Contract;
    receiver.setContract(stream);
    const keep = m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE);
    const s = new Script();
    const copy = s.reg();
    const data = s.invoke(2, 1, { words: [1, 2] });
    const flushBySend = s.invoke(2, 2);
    const flushRefusal = s.invoke(1, Op.PROCESS_CONTRACT_REFUSAL);
    const endByCall = s.invoke(3, 3);
    const endRefusal = s.invoke(1, Op.PROCESS_CONTRACT_REFUSAL);
    const end = s.invoke(2, 3);
    s.invoke(2, Op.CAP_COPY);
    s.loadCap(copy);
    const copyData = s.invoke(copy, 1, { words: [1] }); // the copy stands in Ended too
    const originalData = s.invoke(2, 1, { words: [1] });
    const fresh = s.invoke(4, 1, { words: [9] }); // another endpoint, still in Open
    s.end();
    const p = m.spawn(s, {
      caps: [m.kernel.capability(receiver, Rights.RECEIVER_SEND), m.kernel.capability(receiver, Rights.RECEIVER_CALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND)],
    });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, data)).toBe(0);
    expect(log.status(p, flushBySend)).toBe(Status.E_CONTRACT);
    expect(refusalText(log.answer(p, flushRefusal).words)).toBe("contract Stream, state Open: leads Flush to state Flushing, which only a reply leaves: call it, do not send (allowed: Data?, Flush?, End?)");
    expect(log.status(p, endByCall)).toBe(Status.E_CONTRACT);
    expect(refusalText(log.answer(p, endRefusal).words)).toBe("contract Stream, state Open: leads End to state Ended, where no reply is allowed: send it, do not call (allowed: Data?, Flush?, End?)");
    expect(log.status(p, end)).toBe(0);
    expect(log.status(p, copyData)).toBe(Status.E_CONTRACT);
    expect(log.status(p, originalData)).toBe(Status.E_CONTRACT);
    expect(log.status(p, fresh)).toBe(0);
    expect(receiver.queued).toBe(3);
    keep.dispose();
  });
});

describe("RECEIVER_SET_CONTRACT", () => {
  it("takes a table from the caller's memory once, before any send or call capability, and refuses bad tables", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m, 8);
    const table = [...compileContract(NOTE).table];
    const bad = [...table];
    bad[0] = 0;
    const s = new Script();
    s.store(SCRATCH, table);
    s.store(SCRATCH + 0x800, bad);
    const badTable = s.invoke(2, Op.RECEIVER_SET_CONTRACT, { words: [SCRATCH + 0x800, 4 * bad.length] });
    const badRefusal = s.invoke(1, Op.PROCESS_CONTRACT_REFUSAL);
    const oddLength = s.invoke(2, Op.RECEIVER_SET_CONTRACT, { words: [SCRATCH, 6] });
    const unmapped = s.invoke(2, Op.RECEIVER_SET_CONTRACT, { words: [0x7000_0000, 4 * table.length] });
    const noRight = s.invoke(3, Op.RECEIVER_SET_CONTRACT, { words: [SCRATCH, 4 * table.length] });
    const set = s.invoke(2, Op.RECEIVER_SET_CONTRACT, { words: [SCRATCH, 4 * table.length] });
    const twice = s.invoke(2, Op.RECEIVER_SET_CONTRACT, { words: [SCRATCH, 4 * table.length] });
    const info = s.invoke(2, Op.RECEIVER_INFO);
    const minted = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((badge) => s.invoke(2, Op.RECEIVER_MINT, { words: [badge, Rights.RECEIVER_SEND] }));
    const infoAfter = s.invoke(2, Op.RECEIVER_INFO);
    // Reservations are beyond the capacity: copies too (the minted ones are at slots 4 … 12).
    const copies = Array.from({ length: 20 }, () => s.invoke(4, Op.CAP_COPY));
    const infoCopied = s.invoke(2, Op.RECEIVER_INFO);
    s.invoke(5, Op.CAP_DROP);
    const infoDropped = s.invoke(2, Op.RECEIVER_INFO);
    s.end();
    const p = m.spawn(s, {
      caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE | Rights.RECEIVER_MINT), m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)],
    });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, badTable)).toBe(Status.E_INVALID_ARGUMENT);
    expect(refusalText(log.answer(p, badRefusal).words)).toBe("contract table refused: word 0 is 0x0, not the contract magic 0x54434744");
    expect(log.status(p, oddLength)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, unmapped)).toBe(Status.E_BAD_ADDRESS);
    expect(log.status(p, noRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.answer(p, set)).toMatchObject({ status: 0, words: [1, 3] });
    expect(log.status(p, twice)).toBe(Status.E_NOT_READY);
    expect(log.answer(p, info).words).toEqual([0, 8, 0, 1]);
    // Bound 1 per endpoint, a slot each beyond the queue of 8: a ninth endpoint and twenty copies
    // are had too. (Before, the ninth was refused E_QUEUE_FULL: a client copying its endpoint
    // took every slot, and no one else could get one.)
    expect(minted.map((id) => log.status(p, id))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(log.answer(p, infoAfter).words).toEqual([0, 8, 9, 1]);
    expect(copies.map((id) => log.status(p, id))).toEqual(copies.map(() => 0));
    expect(log.answer(p, infoCopied).words).toEqual([0, 8, 29, 1]);
    expect(log.answer(p, infoDropped).words).toEqual([0, 8, 28, 1]);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });

  it("refuses a table whose names hold a control character: they go into the refusals a client reads back and prints (redteam9)", () => {
    const table = compileContract(NOTE).table;
    const states = table[2]!;
    const textAt = 5 + 3 * states + 5 * table[3]!;
    const text = new Uint8Array(table.buffer, table.byteOffset + 4 * (textAt + 1), table[textAt]!);
    const nameRef = (word: number) => [table[word]! & 0xffff, table[word]! >>> 16] as const;
    const poisoned = (word: number, byte: number): string | Contract => {
      const copy = new Uint32Array(table);
      const bytes = new Uint8Array(copy.buffer, 4 * (textAt + 1), text.length);
      bytes[nameRef(word)[0]] = byte;
      return decodeContract(copy);
    };
    expect(poisoned(4, 0x1b)).toBe("word 4: the contract's name is outside the text area or not printable UTF-8");
    expect(poisoned(5, 0x07)).toBe("word 5: state 0's name is outside the text area or not printable UTF-8");
    expect(poisoned(5 + 3 * states + 4, 0x7f)).toMatch(/^message 0 \(state Ready\): its name is outside the text area or not printable UTF-8$/);
    expect(typeof poisoned(4, 0x41)).toBe("object"); // a printable byte in its place is a contract
  });

  it("is refused once a send or call capability exists: it would be an endpoint the contract never saw start", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m, 8);
    const early = m.kernel.capability(receiver, Rights.RECEIVER_SEND);
    const table = [...compileContract(COUNTER).table];
    const s = new Script();
    s.store(SCRATCH, table);
    const set = s.invoke(2, Op.RECEIVER_SET_CONTRACT, { words: [SCRATCH, 4 * table.length] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE | Rights.RECEIVER_MINT)] });
    await runAll(m);
    expect(m.log().status(p, set)).toBe(Status.E_NOT_READY);
    early.dispose();
  });
});

describe("queue slots reserved from the contract", () => {
  it("keeps bound slots per endpoint beyond the capacity, frees them when the endpoint's messages are gone, and leaves the capacity to the rest", () => {
    const receiver = new Receiver(1);
    receiver.setContract(contractOf(NOTE));
    const a = new Capability(receiver, Rights.RECEIVER_SEND, 1);
    const b = new Capability(receiver, Rights.RECEIVER_SEND, 2);
    expect([a.endpoint!.reserved, b.endpoint!.reserved, receiver.reservedSlots]).toEqual([true, true, 2]);
    const envelope = (cap: Capability | null) => ({ label: L.Ping, words: new Uint32Array([1]), caps: [], badge: 0, reply: null, endpoint: cap?.endpoint ?? null });
    // A kernel notice takes the one slot of the capacity; a copy made now is reserved all the same.
    expect(receiver.enqueue(envelope(null))).toBe(true);
    const c = a.derive(ALL);
    expect([c.endpoint!.reserved, receiver.reservedSlots]).toEqual([true, 3]);
    // The queue is full for the kernel, never for an endpoint.
    expect([receiver.full, receiver.hasRoom(null), receiver.hasRoom(c.endpoint), receiver.hasRoom(a.endpoint)]).toEqual([true, false, true, true]);
    expect(receiver.enqueue(envelope(null))).toBe(false);
    expect(receiver.enqueue(envelope(c))).toBe(true);
    expect(receiver.enqueue(envelope(a))).toBe(true);
    expect(receiver.contractAccountingErrors()).toEqual([]);
    a.dispose();
    // a's slot stays kept while its message is queued.
    expect(receiver.reservedSlots).toBe(3);
    expect(receiver.take()!.endpoint).toBe(null);
    expect(receiver.take()!.endpoint).toBe(c.endpoint);
    expect(receiver.take()!.endpoint?.closed).toBe(true);
    expect([receiver.reservedSlots, receiver.unreservedQueued, receiver.queued]).toEqual([2, 0, 0]);
    b.dispose();
    c.dispose();
    expect([receiver.reservedSlots, receiver.clientCaps]).toEqual([0, 0]);
  });

  it("reserves nothing for a contract whose ? messages cycle (no bound follows)", () => {
    const receiver = new Receiver(2);
    receiver.setContract(decodeContract(compileContract(STREAM).table) as Contract);
    const a = new Capability(receiver, Rights.RECEIVER_SEND);
    expect([a.endpoint!.reserved, receiver.reservedSlots, ObjectKind.RECEIVER]).toEqual([false, 0, 3]);
    a.dispose();
  });
});

describe("calls that wait for room", () => {
  it("never refuses a call of a contract of calls only: a full queue is waited behind, every call is answered, and no slot is reserved", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m, 2);
    receiver.setContract(counter());
    expect(receiver.contract!.callsOnly).toBe(true);
    const CALLERS = 7;
    // Seven endpoints in a queue of two: nothing is reserved, so nothing is refused.
    const caps = Array.from({ length: CALLERS }, (_, i) => m.kernel.capability(receiver, Rights.RECEIVER_CALL, i));
    expect([receiver.reservedSlots, caps.every((cap) => !cap.endpoint!.reserved)]).toEqual([0, true]);
    const server = new Script();
    const reply = server.reg();
    const loop = server.label();
    server.bind(loop);
    const info = server.invoke(2, Op.RECEIVER_INFO);
    server.invoke(2, Op.RECEIVER_RECEIVE, { dump: false });
    server.load(reply, BUF + 16);
    server.ifEqual(reply, 0, loop);
    server.invoke(reply, L.Pong, { dump: false });
    server.jump(loop);
    // The server runs only once every caller waits: the queue fills, and five calls wait behind it.
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], priority: 5 });
    const calls: number[][] = [];
    const callers = caps.map((cap) => {
      const s = new Script();
      calls.push([s.invoke(2, L.Ping, { words: [1] }), s.invoke(2, L.Ping)]);
      s.end();
      return m.spawn(s, { caps: [cap], priority: 2 });
    });
    expect(await runCheckingInvariants(m, callers, 1)).toEqual([]);
    const log = m.log();
    expect(callers.flatMap((p, i) => calls[i]!.map((id) => log.status(p, id)))).toEqual(new Array(2 * CALLERS).fill(0));
    // It did wait: the queue held its two, and the rest waited behind it (a kernel that refused them
    // would have answered E_QUEUE_FULL above).
    const queued = log.all(sp, info).map((_, k) => log.answer(sp, info, k).words[0]!);
    expect(Math.max(...queued)).toBe(2);
    expect(receiver.waitingCalls.length).toBe(0);
    m.kernel.kill(sp.pid);
  });

  it("lets a caller killed while it waits for room go: its call is answered to nobody, and the others are served", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m, 1);
    receiver.setContract(counter());
    const callers = [0, 1, 2].map((i) => {
      const s = new Script();
      const ping = s.invoke(2, L.Ping, { words: [i] });
      s.end();
      return { ping, process: m.spawn(s, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL, i)] }) };
    });
    // No server yet: the first call fills the queue, the two others wait behind it.
    await m.kernel.run();
    expect([receiver.queued, receiver.waitingCalls.length]).toEqual([1, 2]);
    expect(checkInvariants(m.kernel)).toEqual([]);
    expect(m.kernel.kill(callers[2]!.process.pid)).toBe(0);
    const server = new Script();
    const reply = server.reg();
    const loop = server.label();
    server.bind(loop);
    server.invoke(2, Op.RECEIVER_RECEIVE, { dump: false });
    server.load(reply, BUF + 16);
    server.ifEqual(reply, 0, loop);
    server.invoke(reply, L.Pong, { dump: false });
    server.jump(loop);
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    await m.kernel.run();
    expect(checkInvariants(m.kernel)).toEqual([]);
    const log = m.log();
    expect(callers.slice(0, 2).map((c) => log.status(c.process, c.ping))).toEqual([0, 0]);
    expect([receiver.queued, receiver.waitingCalls.length, sp.alive]).toEqual([0, 0, true]);
    m.kernel.kill(sp.pid);
  });
});
