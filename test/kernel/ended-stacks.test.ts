// A process ended while blocked in a kernel call must not stay reachable: V8 keeps a suspended
// JSPI stack (and its instance, its imports' closures, the kernel, the machine's memory) for as
// long as it stays suspended, so the kernel unwinds it (Process.unwind).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Whether the collector frees what `ref` points at within a few full collections. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let round = 0; round < 10 && ref.deref() !== undefined; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return ref.deref() === undefined;
}

/** Spawns a sleeper (blocked in the timer's wait at once), kills it once blocked; a WeakRef to its instance. */
async function killBlockedSleeper(): Promise<WeakRef<WebAssembly.Instance>> {
  const t = testMachine();
  const sleeper = t.kernel.spawn(await t.loader.load(program("sleeper"), "sleeper"), { args: ["sleeper", "100000"] });
  const instance = new WeakRef(sleeper.instance!);
  const running = t.kernel.run();
  while (!t.kernel.scheduler.hasSleepers()) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(sleeper.state).toBe("blocked");
  expect(t.kernel.kill(sleeper.pid)).toBe(0);
  await running;
  expect(sleeper.outcome).toEqual({ kind: "exited", code: 137 });
  t.machine.powerOff();
  return instance;
}

/** A sleeper left blocked when the machine halts (process 1 exits), then every process ended. */
async function haltWithSleeperLeft(): Promise<WeakRef<WebAssembly.Instance>> {
  const t = testMachine();
  const sleeper = t.kernel.spawn(await t.loader.load(program("sleeper"), "sleeper"), { args: ["sleeper", "100000"] });
  const instance = new WeakRef(sleeper.instance!);
  const running = t.kernel.run();
  while (!t.kernel.scheduler.hasSleepers()) await new Promise((resolve) => setTimeout(resolve, 1));
  const init = t.kernel.spawn(await t.loader.load(program("hello"), "hello"));
  t.kernel.setCritical(init);
  await running;
  expect(sleeper.alive).toBe(true);
  t.machine.powerOff();
  t.kernel.endEveryProcess();
  expect(sleeper.outcome).toEqual({ kind: "exited", code: 137 });
  expect(t.kernel.stuck()).toEqual([]);
  return instance;
}

async function runHello(): Promise<WeakRef<WebAssembly.Instance>> {
  const t = testMachine();
  const hello = t.kernel.spawn(await t.loader.load(program("hello"), "hello"));
  const instance = new WeakRef(hello.instance!);
  await t.kernel.run();
  expect(hello.outcome).toEqual({ kind: "exited", code: 0 });
  return instance;
}

describe("a process ended while blocked", () => {
  it("has its stack unwound, so its instance is collected", async () => {
    expect(await collected(await killBlockedSleeper())).toBe(true);
  });

  it("is collected when the host ends every process of a machine it is done with", async () => {
    expect(await collected(await haltWithSleeperLeft())).toBe(true);
  });

  it("is collected like one that exited", async () => {
    expect(await collected(await runHello())).toBe(true);
  });
});

// Redteam13: an ended process's object lives as long as a capability to it (its creator's, one in
// a Cappage), charged to nobody once it ended; it kept its instance, up to its tables' 8 MiB and
// its globals and exports, so a creator keeping its ended children's capabilities kept them all.
describe("an ended process whose object is still held", () => {
  it("lets its instance go", async () => {
    const t = testMachine();
    const hello = t.kernel.spawn(await t.loader.load(program("hello"), "hello"));
    const instance = new WeakRef(hello.instance!);
    await t.kernel.run();
    expect(hello.outcome).toEqual({ kind: "exited", code: 0 });
    expect(await collected(instance)).toBe(true);
    expect(hello.pid).toBeGreaterThan(0); // held until here, as a capability holds it
  });

  it("lets its image go: the binary and the compiled module, keeping only its name", async () => {
    const t = testMachine();
    const loaded = await t.loader.load(program("hello"), "hello");
    const hello = t.kernel.spawn(loaded);
    await t.kernel.run();
    expect(hello.outcome).toEqual({ kind: "exited", code: 0 });
    expect([hello.image.name, hello.image.hash]).toEqual([loaded.name, loaded.hash]);
    expect([hello.image.module === loaded.module, hello.image.bytes.length]).toEqual([false, 0]);
  });
});
