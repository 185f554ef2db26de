/**
 * Whole machines: several processes exchanging messages, capabilities and a Region — a ring that
 * passes a token and a Region with it, a server with several clients, and a parent that creates,
 * feeds and monitors its children.
 */
import { describe, expect, it } from "vitest";
import { KernelMessage, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { ALL, BUF, Script, State, makeReceiver, runAll, scriptMachine } from "./script.ts";

describe("whole machines", () => {
  it("passes a token and a Region around a ring of four; each writes its mark and checks the last", async () => {
    const m = await scriptMachine();
    m.kernel.imageObject(m.vm);
    const mem = m.kernel.memoryObject(20);
    const keep = m.kernel.capability(mem, ALL);
    const free = m.kernel.frames.freeCount;
    const N = 4;
    const LIMIT = 40;
    const receivers = Array.from({ length: N }, () => makeReceiver(m, 4));
    const steps: Array<{ got: number; check: number; seen: number }> = [];
    const processes = receivers.map((_, i) => {
      const s = new Script();
      s.invoke(1, Op.PROCESS_LISTEN, { words: [1] });
      const [token, region, address] = [s.reg(), s.reg(), s.reg()];
      if (i === 0) {
        s.invoke(4, Op.MEMORY_CREATE_REGION, { words: [1, 0] });
        s.loadCap(region);
        s.invoke(region, Op.REGION_INFO);
        s.loadWord(address, 0);
        s.write(address, 0);
        s.invoke(3, 1, { words: [1], caps: [region] });
      }
      const loop = s.label();
      const done = s.label();
      s.bind(loop);
      const got = s.invoke(2, Op.RECEIVER_RECEIVE);
      s.loadWord(token, 0);
      s.loadCap(region);
      const seen = s.logValue(token);
      s.invoke(region, Op.REGION_INFO, { dump: false });
      s.loadWord(address, 0);
      // The word before this token's holds the previous token: whoever wrote it passed the Region on.
      const previous = s.reg();
      s.set(previous, token);
      s.add(previous, -1);
      const slot = s.reg();
      s.set(slot, address);
      s.add(slot, previous);
      s.add(slot, previous);
      s.add(slot, previous);
      s.add(slot, previous);
      const check = s.check(slot, previous, 1);
      const next = s.label();
      s.ifLess(token, LIMIT, next);
      // At the limit: pass the token on unchanged so that everyone stops, and stop.
      s.invoke(3, 1, { words: [token], caps: [region] });
      s.jump(done);
      s.bind(next);
      s.store(slot.plus(4), [token]);
      s.add(token, 1);
      s.invoke(3, 1, { words: [token], caps: [region], dump: false });
      s.jump(loop);
      s.bind(done);
      s.end();
      steps.push({ got, check, seen });
      return s;
    });
    const spawned = processes.map((s, i) =>
      m.spawn(s, {
        caps: [
          m.kernel.capability(receivers[i]!, Rights.RECEIVER_RECEIVE),
          m.kernel.capability(receivers[(i + 1) % N]!, Rights.RECEIVER_SEND, i),
          m.kernel.capability(mem, ALL),
        ],
      }),
    );
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((p) => p.pid)).toEqual([]);
    const seenBy = spawned.map((p, i) => log.all(p, steps[i]!.seen).map((v) => v[0]!));
    // Process i receives the tokens i+1, i+1+N, … up to the limit, and then the limit itself.
    seenBy.forEach((tokens, i) => {
      const expected: number[] = [];
      for (let t = ((i + N - 1) % N) + 1; t < LIMIT; t += N) expected.push(t);
      expect(tokens.slice(0, expected.length)).toEqual(expected);
      expect(tokens.at(-1)).toBe(LIMIT);
    });
    spawned.forEach((p, i) => {
      const checks = log.all(p, steps[i]!.check);
      expect(checks.length).toBe(seenBy[i]!.length);
      for (const record of checks) expect(record).toEqual([0, 0xffff_ffff]);
    });
    for (const p of spawned) expect(p.outcome).toEqual({ kind: "exited", code: 0 });
    expect(mem.used).toBe(0);
    expect(m.kernel.frames.freeCount).toBe(free);
    keep.dispose();
  });

  it("serves three clients through reply-and-receive; each gets its own answers, told apart by badge", async () => {
    const m = await scriptMachine();
    const receiver = makeReceiver(m);
    const server = new Script();
    const [reply, value] = [server.reg(), server.reg()];
    const serve = server.label();
    server.invoke(2, Op.RECEIVER_RECEIVE, { dump: false });
    server.bind(serve);
    server.load(reply, BUF + 16);
    server.loadWord(value, 0);
    server.add(value, 1);
    const badge = server.reg();
    server.load(badge, BUF + 12);
    server.invoke(reply, 8, { words: [value, badge], recv: 2, dump: false });
    server.jump(serve);
    const sp = m.spawn(server, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const CALLS = 50;
    const clients = [0xa, 0xb, 0xc].map((tag) => {
      const c = new Script();
      const [i, answer] = [c.reg(0), c.reg()];
      const loop = c.label();
      const wrong = c.label();
      const done = c.label();
      c.bind(loop);
      c.invoke(2, 7, { words: [i], dump: false });
      c.ifNegative(wrong);
      c.loadWord(answer, 0);
      c.ifNotEqual(answer, i.plus(1), wrong);
      c.loadWord(answer, 1);
      c.ifNotEqual(answer, tag, wrong);
      c.add(i, 1);
      c.ifLess(i, CALLS, loop);
      c.jump(done);
      c.bind(wrong);
      c.end(-1);
      c.bind(done);
      c.end(i);
      return m.spawn(c, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL, tag)] });
    });
    const stuck = await runAll(m);
    expect(stuck.map((p) => p.pid)).toEqual([sp.pid]);
    for (const c of clients) expect(c.returnValue).toBe(CALLS);
  });

  it("creates children, gives them capabilities, starts them, and hears from each and of each end", async () => {
    const m = await scriptMachine();
    const child = new Script();
    const pid = child.reg();
    child.invoke(1, Op.PROCESS_STATE, { dump: false });
    child.loadWord(pid, 0);
    child.invoke(2, 5, { words: [pid] });
    child.exit(pid);
    const image = m.kernel.imageObject(await m.childImage(child, "child"));
    const mem = m.kernel.memoryObject(300);
    const keep = m.kernel.capability(mem, ALL);
    const s = new Script();
    const [kid, send, r, notice] = [s.reg(), s.reg(), s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_RECEIVER);
    s.loadCap(r);
    s.invoke(r, Op.RECEIVER_MINT, { words: [0xe0d, Rights.RECEIVER_SEND] });
    s.loadCap(notice);
    for (let i = 0; i < 3; i++) {
      s.invoke(2, Op.MEMORY_CREATE_PROCESS, { caps: [3] });
      s.loadCap(kid);
      s.invoke(r, Op.RECEIVER_MINT, { words: [100 + i, Rights.RECEIVER_SEND] });
      s.loadCap(send);
      s.invoke(kid, Op.PROCESS_GIVE, { caps: [send.move] });
      s.invoke(kid, Op.PROCESS_MONITOR, { caps: [notice] });
      s.invoke(kid, Op.PROCESS_START);
    }
    const messages = s.label();
    const count = s.reg(0);
    s.bind(messages);
    const got = s.invoke(r, Op.RECEIVER_RECEIVE);
    s.add(count, 1);
    s.ifLess(count, 6, messages);
    const list = s.invoke(2, Op.MEMORY_LIST);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(image, Rights.IMAGE_SPAWN)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((q) => q.pid)).toEqual([]);
    const received = log.all(p, got).map((_, i) => log.answer(p, got, i));
    const hello = received.filter((a) => a.label === 5);
    const ended = received.filter((a) => a.label === KernelMessage.PROCESS_ENDED);
    expect(hello.map((a) => a.badge).sort()).toEqual([100, 101, 102]);
    const pids = hello.map((a) => a.words[0]!).sort();
    expect(ended.map((a) => a.badge)).toEqual([0xe0d, 0xe0d, 0xe0d]);
    expect(ended.map((a) => a.words).sort((x, y) => x[0]! - y[0]!)).toEqual(pids.map((pid) => [pid, State.exited, pid]));
    // The children are gone; the parent's Receiver (one page) is all that is left in the Memory.
    expect(log.answer(p, list).words).toEqual([0, 0, 1, 0, 0, 0, 0, 1]);
    expect(mem.used).toBe(0);
    keep.dispose();
  });
});
