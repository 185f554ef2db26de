/**
 * Interrupt objects: a machine line routed to a Receiver. One INTERRUPT message goes out; further
 * interrupts are counted until INTERRUPT_ACK re-arms the line.
 */
import { describe, expect, it } from "vitest";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { InterruptObject } from "../../src/kernel/caps/interrupt.ts";
import { KernelMessage, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { Status } from "../../src/kernel/errors.ts";
import type { Process } from "../../src/kernel/process.ts";
import { ALL, Script, type ScriptMachine, makeReceiver, runAll, scriptMachine } from "./script.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** Waits (on the host) until `condition` holds (at most about five seconds). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !condition(); i++) await tick();
}

/** Waits until `process` is blocked, or has ended. */
const blocked = (process: Process) => until(() => !process.alive || process.state === "blocked");

function raise(m: ScriptMachine, times: number, line = 5): void {
  for (let i = 0; i < times; i++) m.machine.interrupts.raise({ line: "irq", number: line });
}

describe("InterruptObject (direct)", () => {
  it("owns the capability it is bound to: rebinding or destruction disposes it", () => {
    const irq = new InterruptObject(5);
    const a = new Receiver(1);
    const b = new Receiver(1);
    irq.bind(new Capability(a, Rights.RECEIVER_SEND));
    expect([irq.armed, a.refs]).toEqual([true, 1]);
    irq.bind(new Capability(b, Rights.RECEIVER_SEND));
    expect([a.refs, a.destroyed, b.refs]).toEqual([0, true, 1]);
    irq.destroy();
    expect([b.refs, irq.target, irq.armed]).toEqual([0, null, false]);
  });
});

describe("INTERRUPT_* operations", () => {
  it("delivers one INTERRUPT, counts the rest until INTERRUPT_ACK, then delivers the count", async () => {
    const m = await scriptMachine();
    const irq = m.kernel.interruptObject(5);
    const s = new Script();
    const [r, send] = [s.reg(), s.reg()];
    s.invoke(3, Op.MEMORY_CREATE_RECEIVER);
    s.loadCap(r);
    s.invoke(r, Op.RECEIVER_MINT, { words: [0x1e, Rights.RECEIVER_SEND] });
    s.loadCap(send);
    const bound = s.invoke(2, Op.INTERRUPT_BIND, { caps: [send] });
    const first = s.invoke(r, Op.RECEIVER_RECEIVE);
    const none = s.invoke(r, Op.RECEIVER_RECEIVE, { words: [0, 0] });
    const ack = s.invoke(2, Op.INTERRUPT_ACK);
    const second = s.invoke(r, Op.RECEIVER_RECEIVE, { words: [0, 0] });
    s.invoke(2, Op.INTERRUPT_ACK);
    const quiet = s.invoke(r, Op.RECEIVER_RECEIVE, { words: [0, 0] });
    const third = s.invoke(r, Op.RECEIVER_RECEIVE);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(irq, Rights.INTERRUPT_BIND), m.kernel.capability(m.kernel.rootMemory, ALL)] });
    const running = m.kernel.run();
    await blocked(p);
    // Three at once: the first goes out, the other two are counted.
    raise(m, 3);
    await until(() => m.log().ran(p, quiet));
    await blocked(p);
    raise(m, 1);
    await running;
    const log = m.log();
    expect(log.status(p, bound)).toBe(0);
    expect(log.answer(p, first)).toMatchObject({ status: 0, label: KernelMessage.INTERRUPT, badge: 0x1e, words: [5, 1] });
    expect(log.status(p, none)).toBe(Status.E_TIMEOUT);
    expect(log.status(p, ack)).toBe(0);
    expect(log.answer(p, second)).toMatchObject({ status: 0, label: KernelMessage.INTERRUPT, words: [5, 2] });
    expect(log.status(p, quiet)).toBe(Status.E_TIMEOUT);
    expect(log.answer(p, third)).toMatchObject({ status: 0, label: KernelMessage.INTERRUPT, words: [5, 1] });
    expect(m.kernel.stuck().map((q) => q.pid)).toEqual([]);
  });

  it("keeps interrupts counted while the Receiver's queue is full, and sends them with the next one", async () => {
    const m = await scriptMachine();
    const irq = m.kernel.interruptObject(6);
    const receiver = makeReceiver(m, 1);
    const s = new Script();
    s.invoke(2, Op.INTERRUPT_BIND, { caps: [3] });
    s.invoke(3, 99);
    s.futexWait(0x2000 + 200, 0, 50_000_000n);
    const filler = s.invoke(4, Op.RECEIVER_RECEIVE, { words: [0, 0] });
    const none = s.invoke(4, Op.RECEIVER_RECEIVE, { words: [0, 0] });
    const ack = s.invoke(2, Op.INTERRUPT_ACK);
    const counted = s.invoke(4, Op.RECEIVER_RECEIVE, { words: [0, 0] });
    s.end();
    const p = m.spawn(s, {
      caps: [m.kernel.capability(irq, Rights.INTERRUPT_BIND), m.kernel.capability(receiver, Rights.RECEIVER_SEND), m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)],
    });
    const running = m.kernel.run();
    await blocked(p);
    raise(m, 2, 6);
    await running;
    const log = m.log();
    expect(log.answer(p, filler).label).toBe(99);
    expect(log.status(p, none)).toBe(Status.E_TIMEOUT);
    expect(log.status(p, ack)).toBe(0);
    expect(log.answer(p, counted)).toMatchObject({ status: 0, label: KernelMessage.INTERRUPT, words: [6, 2] });
  });

  it("checks rights and arguments", async () => {
    const m = await scriptMachine();
    const irq = m.kernel.interruptObject(7);
    const receiver = makeReceiver(m);
    const s = new Script();
    const ids = {
      ackFirst: s.invoke(2, Op.INTERRUPT_ACK),
      noRight: s.invoke(3, Op.INTERRUPT_BIND, { caps: [4] }),
      ackNoRight: s.invoke(3, Op.INTERRUPT_ACK),
      wrongType: s.invoke(2, Op.INTERRUPT_BIND, { caps: [2] }),
      noSend: s.invoke(2, Op.INTERRUPT_BIND, { caps: [5] }),
      none: s.invoke(2, Op.INTERRUPT_BIND),
      unknown: s.invoke(2, 0xffff_07ff),
      bound: s.invoke(2, Op.INTERRUPT_BIND, { caps: [4] }),
      ack: s.invoke(2, Op.INTERRUPT_ACK),
    };
    s.end();
    const p = m.spawn(s, {
      caps: [
        m.kernel.capability(irq, Rights.INTERRUPT_BIND),
        m.kernel.capability(irq, 0),
        m.kernel.capability(receiver, Rights.RECEIVER_SEND),
        m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE),
      ],
    });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, ids.ackFirst)).toBe(Status.E_NOT_READY);
    expect(log.status(p, ids.noRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, ids.ackNoRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, ids.wrongType)).toBe(Status.E_WRONG_TYPE);
    expect(log.status(p, ids.noSend)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, ids.none)).toBe(Status.E_INVALID_CAP);
    expect(log.status(p, ids.unknown)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, ids.bound)).toBe(0);
    expect(log.status(p, ids.ack)).toBe(0);
    // The handler's capabilities are gone with it, so the line went with its last capability.
    expect(irq.destroyed).toBe(true);
    expect(receiver.refs).toBe(0);
  });

  it("routes each line to its own Receiver", async () => {
    const m = await scriptMachine();
    const [a, b] = [m.kernel.interruptObject(8), m.kernel.interruptObject(9)];
    expect(m.kernel.interruptObject(8)).toBe(a);
    const receiver = makeReceiver(m);
    const s = new Script();
    s.invoke(2, Op.INTERRUPT_BIND, { caps: [4] });
    s.invoke(3, Op.INTERRUPT_BIND, { caps: [6] });
    const got = s.invoke(5, Op.RECEIVER_RECEIVE);
    const got2 = s.invoke(5, Op.RECEIVER_RECEIVE);
    s.end();
    const p = m.spawn(s, {
      caps: [
        m.kernel.capability(a, Rights.INTERRUPT_BIND),
        m.kernel.capability(b, Rights.INTERRUPT_BIND),
        m.kernel.capability(receiver, Rights.RECEIVER_SEND, 8),
        m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE),
        m.kernel.capability(receiver, Rights.RECEIVER_SEND, 9),
      ],
    });
    const running = m.kernel.run();
    await blocked(p);
    raise(m, 1, 9);
    raise(m, 1, 3);
    raise(m, 1, 8);
    await running;
    const log = m.log();
    const answers = [log.answer(p, got), log.answer(p, got2)].map((x) => [x.badge, x.words]);
    expect(answers).toEqual([
      [9, [9, 1]],
      [8, [8, 1]],
    ]);
  });
});
