/**
 * Calls and Reply capabilities: the one-shot reply, what the caller sees when the server cannot
 * answer (dropped, died, Receiver destroyed), what the server sees when the caller is gone, and
 * refused replies that stay with the server.
 */
import { describe, expect, it } from "vitest";
import { ObjectKind, Op, RECV_TIMEOUT, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { ALL, BUF, Script, State, makeReceiver, runAll, scriptMachine } from "./script.ts";

/** A server step: receive on slot `recv` and keep the reply capability in a register. */
function receiveCall(s: Script, recv: number) {
  const id = s.invoke(recv, Op.RECEIVER_RECEIVE);
  const reply = s.reg();
  s.load(reply, BUF + 16);
  return { id, reply };
}

describe("call and reply", () => {
  it("delivers the call with badge and reply capability, and the reply with its capabilities to a caller that does not listen", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const mem = m.kernel.memoryObject(10);
    // The server's Memory would die with the server's capability to it (and the Page in it).
    const keep = m.kernel.capability(mem, ALL);
    const server = new Script();
    const { id: got, reply } = receiveCall(server, 2);
    const replyInfo = server.invoke(reply, Op.CAP_INFO);
    const copy = server.invoke(reply, Op.CAP_COPY);
    const page = server.reg();
    server.invoke(3, Op.MEMORY_CREATE_PAGE);
    server.loadCap(page);
    const answered = server.invoke(reply, 0x55, { words: [42, 43], caps: [page.move] });
    const again = server.invoke(reply, 0x56);
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE), m.kernel.capability(mem, ALL)] });
    const client = new Script();
    const called = client.invoke(2, 7, { words: [41] });
    const cap = client.reg();
    client.loadCap(cap);
    const info = client.invoke(cap, Op.CAP_INFO);
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL, 9)] });
    await runAll(m);
    const log = m.log();
    const call = log.answer(sp, got);
    expect(call).toMatchObject({ status: 0, label: 7, n: 1, c: 0, badge: 9, words: [41] });
    expect(call.reply).toBeGreaterThan(3);
    expect(log.answer(sp, replyInfo).words).toEqual([ObjectKind.REPLY, 0]);
    expect(log.status(sp, copy)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(sp, answered)).toBe(0);
    expect(log.status(sp, again)).toBe(Status.E_INVALID_CAP);
    expect(log.answer(cp, called)).toMatchObject({ status: 0, label: 0x55, n: 2, c: 1, badge: 0, reply: 0, words: [42, 43] });
    expect(log.answer(cp, info).words).toEqual([ObjectKind.PAGE, ALL]);
    keep.dispose();
  });

  it("keeps a refused reply with the server: too big, a kernel label, a bad capability", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const server = new Script();
    const { reply } = receiveCall(server, 2);
    const tooBig = server.invoke(reply, 1, { words: [1, 2] });
    const kernelLabel = server.invoke(reply, Op.PROCESS_START);
    const kernelMessage = server.invoke(reply, 0xffff_f001, { words: [1] });
    const badCap = server.invoke(reply, 1, { caps: [77] });
    const fits = server.invoke(reply, 2, { words: [5] });
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const client = new Script();
    // A 24-byte buffer: room for one word in the answer.
    const called = client.invoke(2, 7, { words: [41], len: 24 });
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(sp, tooBig)).toBe(Status.E_BAD_MESSAGE);
    expect(log.status(sp, kernelLabel)).toBe(Status.E_WRONG_TYPE);
    expect(log.status(sp, kernelMessage)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(sp, badCap)).toBe(Status.E_INVALID_CAP);
    expect(log.status(sp, fits)).toBe(0);
    expect(log.answer(cp, called)).toMatchObject({ status: 0, label: 2, words: [5] });
  });

  it("gives the caller E_PEER_DEAD when the server drops the reply", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const server = new Script();
    const { reply } = receiveCall(server, 2);
    const dropped = server.invoke(reply, Op.CAP_DROP);
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const client = new Script();
    const called = client.invoke(2, 7, { words: [41] });
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(sp, dropped)).toBe(0);
    expect(log.answer(cp, called)).toMatchObject({ status: Status.E_PEER_DEAD, label: 7, words: [41] });
  });

  it("gives the caller E_PEER_DEAD when the server is killed holding the reply, and never hangs", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const server = new Script();
    receiveCall(server, 2);
    server.futexWait(BUF + 200, 0);
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const client = new Script();
    const called = client.invoke(2, 7);
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    const killer = new Script();
    killer.waitForState(2, State.blocked);
    killer.waitForState(3, State.blocked);
    // Both are blocked: the server in its futex wait (it holds the reply), the client in its call.
    const kill = killer.invoke(2, Op.PROCESS_KILL);
    const clientState = killer.invoke(3, Op.PROCESS_STATE);
    killer.end();
    const kp = m.spawn(killer, { caps: [m.kernel.capability(sp, ALL), m.kernel.capability(cp, Rights.PROCESS_INFO)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((p) => p.pid)).toEqual([]);
    expect(log.status(kp, kill)).toBe(0);
    expect(log.answer(kp, clientState).words[1]).not.toBe(State.blocked);
    expect(log.status(cp, called)).toBe(Status.E_PEER_DEAD);
    expect(sp.outcome).toEqual({ kind: "exited", code: 137 });
  });

  it("answers the server E_PEER_DEAD when the caller was killed while waiting", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const client = new Script();
    const called = client.invoke(2, 7);
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    const server = new Script();
    const { reply } = receiveCall(server, 2);
    const kill = server.invoke(3, Op.PROCESS_KILL);
    const replied = server.invoke(reply, 8, { words: [1] });
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE), m.kernel.capability(cp, Rights.PROCESS_KILL)] });
    await runAll(m);
    const log = m.log();
    expect(log.ran(cp, called)).toBe(false);
    expect(cp.outcome).toEqual({ kind: "exited", code: 137 });
    expect(log.status(sp, kill)).toBe(0);
    expect(log.answer(sp, replied)).toMatchObject({ status: Status.E_PEER_DEAD, label: 8, words: [1] });
  });

  it("goes on to receive when reply-and-receive finds the caller gone", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const client = new Script();
    client.invoke(2, 7);
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    const server = new Script();
    const { reply } = receiveCall(server, 2);
    server.invoke(3, Op.PROCESS_KILL);
    server.invoke(4, 99, { words: [3] });
    const next = server.invoke(reply, 8, { words: [1], recv: 2 });
    server.end();
    const sp = m.spawn(server, {
      caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE), m.kernel.capability(cp, Rights.PROCESS_KILL), m.kernel.capability(receiver, Rights.RECEIVER_SEND)],
    });
    await runAll(m);
    const log = m.log();
    expect(log.answer(sp, next)).toMatchObject({ status: 0, label: 99, words: [3] });
  });

  it("bounds reply-and-receive's wait with RECV_TIMEOUT: a call that comes in time is served, none times out", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const client = new Script();
    const first = client.invoke(2, 7, { words: [1] });
    const second = client.invoke(2, 7, { words: [2] });
    // Later than the 1 µs a word 4 without RECV_TIMEOUT would give.
    client.sleep(3_000_000n);
    const thirdCall = client.invoke(2, 7, { words: [3] });
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    const server = new Script();
    const { reply } = receiveCall(server, 2);
    // The client calls again at once (a handoff to it, then one back): served within 10 s.
    const next = server.invoke(reply, 8, { words: [10], recv: 2 | RECV_TIMEOUT, timeoutUs: 10_000_000 });
    const again = server.reg();
    server.load(again, BUF + 16);
    // Without RECV_TIMEOUT word 4 is ignored (an echo server leaves the call's reply index there):
    // the third call, 3 ms later, is received.
    const plain = server.invoke(again, 8, { words: [20], recv: 2, timeoutUs: 1 });
    const third = server.reg();
    server.load(third, BUF + 16);
    // Nobody calls after that: the wait ends after 2 ms with E_TIMEOUT, the reply delivered.
    const last = server.invoke(third, 8, { words: [30], recv: 2 | RECV_TIMEOUT, timeoutUs: 2000 });
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((p) => p.pid)).toEqual([]);
    expect(log.answer(cp, first)).toMatchObject({ status: 0, label: 8, words: [10] });
    expect(log.answer(cp, second)).toMatchObject({ status: 0, label: 8, words: [20] });
    expect(log.answer(cp, thirdCall)).toMatchObject({ status: 0, label: 8, words: [30] });
    expect(log.answer(sp, next)).toMatchObject({ status: 0, label: 7, words: [2] });
    expect(log.answer(sp, plain)).toMatchObject({ status: 0, label: 7, words: [3] });
    expect(log.status(sp, last)).toBe(Status.E_TIMEOUT);
  });

  it("gives the caller E_PEER_DEAD when the Receiver holding its call is destroyed", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const receiver = makeReceiver(m, 4, mem);
    const client = new Script();
    const called = client.invoke(2, 7, { words: [1] });
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    const other = new Script();
    other.waitForState(3, State.blocked);
    const queued = other.invoke(4, Op.RECEIVER_INFO);
    const destroyed = other.invoke(2, Op.MEMORY_DESTROY);
    other.end();
    const op = m.spawn(other, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(cp, Rights.PROCESS_INFO), m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((p) => p.pid)).toEqual([]);
    expect(log.answer(op, queued).words).toEqual([1, 4]);
    expect(log.status(op, destroyed)).toBe(0);
    expect(log.status(cp, called)).toBe(Status.E_PEER_DEAD);
    keep.dispose();
  });

  it("lets the reply capability travel: a second server answers for the first", async () => {
    const m = await scriptMachine();
    const front = makeReceiver(m);
    const back = makeReceiver(m);
    const first = new Script();
    const { reply } = receiveCall(first, 2);
    const forwarded = first.invoke(3, 1, { caps: [reply] });
    const gone = first.invoke(reply, 1);
    first.end();
    const fp = m.spawn(first, { caps: [m.kernel.capability(front, Rights.RECEIVER_RECEIVE), m.kernel.capability(back, Rights.RECEIVER_SEND)] });
    const second = new Script();
    second.invoke(1, Op.PROCESS_LISTEN, { words: [1] });
    const got = second.invoke(2, Op.RECEIVER_RECEIVE);
    const r = second.reg();
    second.loadCap(r);
    const answered = second.invoke(r, 0x77, { words: [7] });
    second.end();
    const bp = m.spawn(second, { caps: [m.kernel.capability(back, Rights.RECEIVER_RECEIVE)] });
    const client = new Script();
    const called = client.invoke(2, 5);
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(front, Rights.RECEIVER_CALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(fp, forwarded)).toBe(0);
    // A Reply capability always moves: the first server no longer holds it.
    expect(log.status(fp, gone)).toBe(Status.E_INVALID_CAP);
    expect(log.answer(bp, got).c).toBe(1);
    expect(log.status(bp, answered)).toBe(0);
    expect(log.answer(cp, called)).toMatchObject({ status: 0, label: 0x77, words: [7] });
  });

  it("keeps a call queued when the waiting server's buffer is too small", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const server = new Script();
    const small = server.invoke(2, Op.RECEIVER_RECEIVE, { len: 20 });
    const { id: big, reply } = receiveCall(server, 2);
    server.invoke(reply, 3);
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const client = new Script();
    const called = client.invoke(2, 7, { words: [1, 2] });
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(sp, small)).toBe(Status.E_BAD_MESSAGE);
    expect(log.answer(sp, big)).toMatchObject({ status: 0, label: 7, words: [1, 2] });
    expect(log.answer(cp, called)).toMatchObject({ status: 0, label: 3, n: 0 });
  });

  it("sends instead of calling through a capability with only RECEIVER_SEND: no reply capability", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const s = new Script();
    const sent = s.invoke(2, 7);
    const got = s.invoke(3, Op.RECEIVER_RECEIVE);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_SEND), m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, sent)).toBe(0);
    expect(log.answer(p, got)).toMatchObject({ status: 0, label: 7, reply: 0 });
  });
});

describe("calls and suspended processes", () => {
  it("holds a reply for a suspended caller until it is resumed", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const client = new Script();
    const called = client.invoke(2, 7, { words: [1] });
    client.exit(4);
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    const server = new Script();
    const { reply } = receiveCall(server, 2);
    server.invoke(3, Op.PROCESS_SUSPEND);
    const replied = server.invoke(reply, 8, { words: [2] });
    server.yield().yield();
    const state = server.invoke(3, Op.PROCESS_STATE);
    server.invoke(3, Op.PROCESS_RESUME);
    const waited = server.invoke(3, Op.PROCESS_WAIT);
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE), m.kernel.capability(cp, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(sp, replied)).toBe(0);
    expect(log.answer(sp, state).words[1]).toBe(State.suspended);
    expect(log.answer(sp, waited).words).toEqual([State.exited, 4]);
    expect(log.answer(cp, called)).toMatchObject({ status: 0, label: 8, words: [2] });
  });

  it("delivers a call to a suspended server, which answers once resumed", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const server = new Script();
    const { id: got, reply } = receiveCall(server, 2);
    server.invoke(reply, 9, { words: [3] });
    server.end();
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const client = new Script();
    client.waitForState(3, State.blocked);
    client.invoke(3, Op.PROCESS_SUSPEND);
    const called = client.invoke(2, 7);
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL), m.kernel.capability(sp, ALL)] });
    const resumer = new Script();
    resumer.waitForState(2, State.blocked);
    const before = resumer.invoke(3, Op.PROCESS_STATE);
    const info = resumer.invoke(4, Op.RECEIVER_INFO);
    resumer.invoke(3, Op.PROCESS_RESUME);
    resumer.end();
    const rp = m.spawn(resumer, {
      caps: [m.kernel.capability(cp, Rights.PROCESS_INFO), m.kernel.capability(sp, ALL), m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)],
    });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((p) => p.pid)).toEqual([]);
    // The call went straight into the suspended server's buffer: nothing is queued.
    expect(log.answer(rp, before).words[1]).toBe(State.suspended);
    expect(log.answer(rp, info).words[0]).toBe(0);
    expect(log.answer(sp, got)).toMatchObject({ status: 0, label: 7 });
    expect(log.answer(cp, called)).toMatchObject({ status: 0, label: 9, words: [3] });
  });

  it("hands calls on one Receiver to the servers waiting on it, first come first served", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const servers = [0, 1].map(() => {
      const s = new Script();
      const { id, reply } = receiveCall(s, 2);
      const who = s.reg();
      s.invoke(1, Op.PROCESS_STATE, { dump: false });
      s.loadWord(who, 0);
      s.invoke(reply, 1, { words: [who] });
      s.end();
      return { p: m.spawn(s, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] }), id };
    });
    const client = new Script();
    const first = client.invoke(2, 10);
    const second = client.invoke(2, 11);
    client.end();
    const cp = m.spawn(client, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((p) => p.pid)).toEqual([]);
    expect(log.answer(servers[0]!.p, servers[0]!.id).label).toBe(10);
    expect(log.answer(servers[1]!.p, servers[1]!.id).label).toBe(11);
    expect(log.answer(cp, first).words).toEqual([servers[0]!.p.pid]);
    expect(log.answer(cp, second).words).toEqual([servers[1]!.p.pid]);
  });
});
