/**
 * REPLY_AT: a reply given now that its caller takes at a deadline (docs/ABI.md). The timer driver
 * answers every sleep this way, so it keeps no table of sleepers that one program could fill.
 */
import { describe, expect, it } from "vitest";
import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import type { Process } from "../../src/kernel/process.ts";
import { ALL, BUF, Script, State, makeReceiver, runAll, scriptMachine, type ScriptMachine } from "./script.ts";

const HOUR_NS = 3600e9;

function receiveCall(s: Script, recv: number) {
  s.invoke(recv, Op.RECEIVER_RECEIVE);
  const reply = s.reg();
  s.load(reply, BUF + 16);
  return reply;
}

function words64(ns: number): [number, number] {
  return [ns % 0x1_0000_0000, Math.floor(ns / 0x1_0000_0000)];
}

/** Polls the machine's state (not the clock) until `ready` holds. */
async function until(what: string, ready: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!ready()) throw new Error(`never happened: ${what}`);
}

function serverAndClient(m: ScriptMachine, server: Script) {
  const receiver = makeReceiver(m);
  const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
  const client = new Script();
  const called = client.invoke(2, 7, { words: [41] });
  client.end();
  const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
  return { sp, cp, called };
}

const ended = (p: Process) => !p.alive;

describe("REPLY_AT", () => {
  it("gives the reply now, and the caller takes it at the deadline and not before; the server goes on at once", async () => {
    const m = await scriptMachine();
    const deadline = m.machine.clock.monotonicNs() + HOUR_NS;
    const server = new Script();
    const reply = receiveCall(server, 2);
    const given = server.invoke(reply, Op.REPLY_AT, { words: [...words64(deadline), 0x55, 42] });
    const next = server.invoke(2, Op.RECEIVER_RECEIVE); // waits for a call that never comes
    server.end();
    const { sp, cp, called } = serverAndClient(m, server);
    const running = m.kernel.run();
    await until("the server has replied and waits for the next call", () => m.log().ran(sp, given) && sp.descriptor.state === "blocked");
    expect(m.log().ran(sp, next)).toBe(false);
    expect(m.log().status(sp, given)).toBe(0);
    expect(cp.descriptor.state).toBe("blocked");
    expect(m.log().ran(cp, called)).toBe(false);
    expect(checkInvariants(m.kernel)).toEqual([]);
    m.advanceClock(HOUR_NS);
    m.machine.interrupts.poke();
    await until("the caller took its answer", () => ended(cp));
    expect(m.log().answer(cp, called)).toMatchObject({ status: 0, label: 0x55, n: 1, words: [42] });
    expect(m.kernel.kill(sp.pid)).toBe(0);
    await running;
  });

  it("ends the caller's wait at once, E_PEER_DEAD, when the server that answered for a far deadline ends first", async () => {
    // Before, a server could answer for a deadline hours (or 2^64 ns) away and end: its caller
    // stayed blocked until then, and nothing was left to end the wait (redteam6's leftover).
    const m = await scriptMachine();
    const far = m.machine.clock.monotonicNs() + HOUR_NS;
    const server = new Script();
    const reply = receiveCall(server, 2);
    server.invoke(reply, Op.REPLY_AT, { words: [...words64(far), 0x55, 42] });
    server.end();
    const { sp, cp, called } = serverAndClient(m, server);
    expect(await runAll(m)).toEqual([]);
    expect(sp.alive).toBe(false);
    expect(m.log().status(cp, called)).toBe(Status.E_PEER_DEAD);
    expect(m.kernel.scheduler.hasSleepers()).toBe(false);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });

  it("keeps the caller's wait when another process the caller knows ends, and ends it when its replier is killed", async () => {
    const m = await scriptMachine();
    const far = m.machine.clock.monotonicNs() + HOUR_NS;
    const server = new Script();
    const reply = receiveCall(server, 2);
    server.invoke(reply, Op.REPLY_AT, { words: [...words64(far), 7] });
    server.invoke(2, Op.RECEIVER_RECEIVE); // lives on, waiting
    server.end();
    const { sp, cp, called } = serverAndClient(m, server);
    const bystander = m.spawn(new Script().end());
    const running = m.kernel.run();
    await until("the server waits and the bystander ended", () => sp.descriptor.state === "blocked" && ended(bystander) && cp.descriptor.state === "blocked");
    expect(m.log().ran(cp, called)).toBe(false);
    expect(m.kernel.kill(sp.pid)).toBe(0);
    await running;
    expect(m.log().status(cp, called)).toBe(Status.E_PEER_DEAD);
    expect(m.kernel.scheduler.hasSleepers()).toBe(false);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });

  it("refuses a kernel label or a missing deadline (the reply stays with the server), and answers at once a deadline that has passed", async () => {
    const m = await scriptMachine();
    const server = new Script();
    const reply = receiveCall(server, 2);
    const short = server.invoke(reply, Op.REPLY_AT, { words: [0, 0] });
    const kernelLabel = server.invoke(reply, Op.REPLY_AT, { words: [0, 0, Op.PROCESS_START] });
    const onReceiver = server.invoke(2, Op.REPLY_AT, { words: [0, 0, 3] });
    const passed = server.invoke(reply, Op.REPLY_AT, { words: [1, 0, 3, 9] });
    server.end();
    const { sp, cp, called } = serverAndClient(m, server);
    expect(await runAll(m)).toEqual([]);
    const log = m.log();
    expect(log.status(sp, short)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(sp, kernelLabel)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(sp, onReceiver)).toBe(Status.E_WRONG_TYPE);
    expect(log.status(sp, passed)).toBe(0);
    expect(log.answer(cp, called)).toMatchObject({ status: 0, label: 3, words: [9] });
  });

  it("lets a caller waiting for its deadline be killed: nothing of it stays among the sleepers, nor with its replier", async () => {
    const m = await scriptMachine();
    const deadline = m.machine.clock.monotonicNs() + HOUR_NS;
    const server = new Script();
    const reply = receiveCall(server, 2);
    const given = server.invoke(reply, Op.REPLY_AT, { words: [...words64(deadline), 1] });
    server.invoke(2, Op.RECEIVER_RECEIVE); // lives on, waiting
    server.end();
    const { sp, cp, called } = serverAndClient(m, server);
    const running = m.kernel.run();
    await until("the server has replied and waits", () => m.log().ran(sp, given) && sp.descriptor.state === "blocked");
    expect(m.kernel.kill(cp.pid)).toBe(0);
    expect(m.kernel.scheduler.hasSleepers()).toBe(false);
    expect(m.kernel.scheduler.takeDeferredAnswers(sp)).toEqual([]);
    expect(m.kernel.kill(sp.pid)).toBe(0);
    await running;
    expect(m.log().ran(cp, called)).toBe(false);
    expect(cp.outcome).toEqual({ kind: "exited", code: 137 });
    expect(checkInvariants(m.kernel)).toEqual([]);
  });
});
