/**
 * The inspection interface the browser's live views read (src/kernel/inspect.ts): plain data made
 * from the kernel's tables, and counters that run only while an inspector watches.
 */
import { describe, expect, it } from "vitest";
import { FrameKind, KernelInspector, TIMELINE_BUCKET_NS } from "../../src/kernel/inspect.ts";
import { bootMachine } from "../helpers/booted-machine.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";
import { endServers, startServers } from "../helpers/many-servers.ts";
import type { Process } from "../../src/kernel/process.ts";

const CONFIG = `service registry registry
service hello hello-service memory=64
service client hello-client
`;

describe("KernelInspector", () => {
  it("names who receives on a Receiver from the Receiver itself, and finds another holder once that one lets go", async () => {
    const t = testMachine();
    const farm = await startServers(t, 3);
    const [first, second, third] = farm.servers as [Process, Process, Process];
    const receiver = farm.groups[0]!.receiver;
    // Kept as capabilities come and go (the latest to take one): describing a table no longer
    // walks every process's (issue 18).
    expect(receiver.receivedBy).toBe(third);
    const inspector = new KernelInspector(t.kernel);
    const receiverIn = (pid: number) => inspector.capabilities(pid)!.find((c) => c.kind === "receiver")!.object;
    expect(receiverIn(first.pid)).toContain(`received by ${third.pid} (server)`);
    t.kernel.kill(third.pid);
    expect(receiver.receivedBy).toBe(null);
    expect(receiverIn(first.pid)).toContain(`received by ${second.pid} (server)`);
    expect(receiver.receivedBy).toBe(second);
    await endServers(t, farm);
  });

  it("shows processes, their end, capabilities, frames, IPC traffic and the timeline", async () => {
    const m = await bootMachine(CONFIG, ["registry", "hello-service", "hello-client"]);
    const inspector = new KernelInspector(m.kernel);
    inspector.watch(true);
    await m.line(/hello-client: looking up no-such-service/);
    await m.line(/init: client \(pid \d+\) exited with code 0/);

    const { live, ended } = inspector.processes();
    const names = live.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(["init", "registry", "hello-service"]));
    expect(names).not.toContain("hello-client");
    const client = ended.find((p) => p.name === "hello-client");
    expect(client?.end).toBe("exited with code 0");
    const init = live.find((p) => p.name === "init")!;
    expect(init.pid).toBe(1);
    expect(init.cpuMicros).toBeGreaterThan(0);
    expect(init.pages).toBeGreaterThan(0);
    // Ended ones are reported once more, not for ever: the next call keeps them in `ended`, no duplicate.
    expect(inspector.processes().ended.filter((p) => p.name === "hello-client")).toHaveLength(1);

    const caps = inspector.capabilities(init.pid)!;
    expect(caps[0]).toMatchObject({ slot: 1, kind: "process", object: "process 1 (init)" });
    expect(caps.some((c) => c.kind === "memory" && c.object.startsWith("Memory"))).toBe(true);
    expect(inspector.capabilities(9999)).toBeNull();

    const frames = inspector.frameMap();
    expect(frames.kinds.length).toBe(m.kernel.frames.frameCount);
    const count = (kind: number) => frames.kinds.filter((k) => k === kind).length;
    expect(count(FrameKind.FREE)).toBe(m.kernel.frames.freeCount);
    expect(count(FrameKind.KERNEL)).toBeGreaterThan(0);
    const privateOfInit = frames.owners.filter((owner, frame) => owner === 1 && frames.kinds[frame] === FrameKind.PRIVATE).length;
    expect(privateOfInit).toBeGreaterThan(0);

    // The client called the registry (lookup, list) and hello (greet): both edges are there.
    const edges = inspector.ipc();
    const registry = live.find((p) => p.name === "registry")!;
    const hello = live.find((p) => p.name === "hello-service")!;
    expect(edges.find((e) => e.from === client!.pid && e.to === registry.pid)?.calls).toBeGreaterThan(0);
    expect(edges.find((e) => e.from === client!.pid && e.to === hello.pid)).toMatchObject({ calls: 1, fromName: "hello-client", toName: "hello-service" });

    const timeline = inspector.timelineSince(0);
    expect(timeline.length).toBeGreaterThan(0);
    const ran = new Set(timeline.flatMap((b) => b.shares.map(([pid]) => pid)));
    expect(ran.has(client!.pid)).toBe(true);

    // Not watching: the kernel's hooks are gone and nothing more is counted.
    inspector.watch(false);
    expect(m.kernel.scheduler.observer).toBeNull();
    expect(m.kernel.ipc.observer).toBeNull();
    // Watching again: the time not watched is charged to nobody (no bucket holds more than its 20 ms).
    const pausedAt = m.kernel.clock.monotonicNs();
    await new Promise((resolve) => setTimeout(resolve, 120));
    inspector.watch(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const after = inspector.timelineSince(pausedAt);
    for (const bucket of after) expect(bucket.shares.reduce((sum, [, ns]) => sum + ns, 0)).toBeLessThanOrEqual(TIMELINE_BUCKET_NS + 1);
    expect(after.filter((b) => b.startNs > pausedAt + TIMELINE_BUCKET_NS && b.startNs + TIMELINE_BUCKET_NS < pausedAt + 120e6)).toEqual([]);
    await m.halt();
  });

  it("counts a process's faults and page-ins", async () => {
    const t = testMachine();
    const inspector = new KernelInspector(t.kernel);
    inspector.watch(true);
    const faulting = t.kernel.spawn(await t.loader.load(wat(`(module (memory 1) (func (export "_start") (drop (i32.load (i32.const 0)))))`), "faulting"));
    const fine = t.kernel.spawn(await t.loader.load(wat(`(module (memory 1) (func (export "_start")))`), "fine"));
    inspector.processes();
    await t.kernel.run();
    const { ended } = inspector.processes();
    expect(ended.find((p) => p.pid === faulting.pid)).toMatchObject({ faults: 1, pageIns: 0 });
    expect(ended.find((p) => p.pid === fine.pid)).toMatchObject({ faults: 0, pageIns: 0 });
  });
});
