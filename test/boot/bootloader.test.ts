import { describe, expect, it } from "vitest";
import { bootInfo } from "../../src/boot/boot-image.ts";
import { runSystem } from "../../src/boot/system.ts";
import { ObjectKind, Op } from "../../src/kernel/caps/object-abi.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const BUF = 8192;
/**
 * A stand-in process 1: checks the capabilities docs/BOOT.md promises (kinds at slots 2-6, the
 * boot info's length and first bytes, an Image in the modules Cappage) and exits with `code` if
 * all hold, else with 100 + the number of the check that failed.
 */
const fakeInit = (code: number) =>
  wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (import "dogma" "exit" (func $exit (param i32)))
  (memory 1)
  (func $op (param $cap i32) (param $label i32) (param $n i32) (result i32)
    (i32.store (i32.const ${BUF}) (local.get $label))
    (i32.store (i32.const ${BUF + 4}) (local.get $n))
    (i32.store (i32.const ${BUF + 8}) (i32.const 0))
    (call $invoke (local.get $cap) (i32.const ${BUF}) (i32.const 292)))
  (func $kind (param $cap i32) (result i32)
    (drop (call $op (local.get $cap) (i32.const ${Op.CAP_INFO}) (i32.const 0)))
    (i32.load (i32.const ${BUF + 20})))
  (func (export "_start")
    (local $info i32)
    (if (i32.ne (call $kind (i32.const 2)) (i32.const ${ObjectKind.MEMORY})) (then (call $exit (i32.const 101))))
    (if (i32.ne (call $kind (i32.const 3)) (i32.const ${ObjectKind.REGION})) (then (call $exit (i32.const 102))))
    (if (i32.ne (call $kind (i32.const 4)) (i32.const ${ObjectKind.CAPPAGE})) (then (call $exit (i32.const 103))))
    (if (i32.ne (call $kind (i32.const 5)) (i32.const ${ObjectKind.CAPPAGE})) (then (call $exit (i32.const 104))))
    (if (i32.ne (call $kind (i32.const 6)) (i32.const ${ObjectKind.CAPPAGE})) (then (call $exit (i32.const 105))))
    (drop (call $op (i32.const 3) (i32.const ${Op.REGION_INFO}) (i32.const 0)))
    (local.set $info (i32.load (i32.const ${BUF + 20})))
    ;; "# do" little-endian after the length word
    (if (i32.ne (i32.load offset=4 (local.get $info)) (i32.const 0x6f642023)) (then (call $exit (i32.const 106))))
    (if (i32.lt_u (i32.load (local.get $info)) (i32.const 20)) (then (call $exit (i32.const 107))))
    (i32.store (i32.const ${BUF + 20}) (i32.const 0))
    (drop (call $op (i32.const 4) (i32.const ${Op.CAPPAGE_GET}) (i32.const 1)))
    (if (i32.ne (call $kind (i32.load (i32.const ${BUF + 20}))) (i32.const ${ObjectKind.IMAGE})) (then (call $exit (i32.const 108))))
    (call $exit (i32.const ${code}))))`);

const module = wat(`(module (memory 1) (func (export "_start")))`);

function system(code: number) {
  const lines: string[] = [];
  let machines = 0;
  const t = testMachine();
  const image = { init: { name: "init", bytes: fakeInit(code) }, modules: [{ name: "idle", bytes: module }], config: "service idle idle\n", params: {} };
  const host = {
    makeMachine: () => {
      machines++;
      return testMachine().machine;
    },
    loader: t.loader,
    log: (line: string) => void lines.push(line),
    kernelOptions: { personalities: [] },
  };
  return { run: () => runSystem(host, image), lines, machines: () => machines };
}

describe("the bootloader", () => {
  it("writes the boot info process 1 reads: length, modules, devices, params, then the config", () => {
    const info = bootInfo(
      { init: { name: "init", bytes: new Uint8Array() }, modules: [{ name: "registry", bytes: new Uint8Array() }], config: "service registry registry\n", params: { "slice-ms": "10" } },
      [{ name: "console", line: 2 }],
    );
    const length = new DataView(info.buffer).getUint32(0, true);
    expect(length).toBe(info.length - 4);
    expect(new TextDecoder().decode(info.subarray(4))).toBe(
      "# dogma boot info\nmodule 0 registry\ndevice 0 console line 2\nparam slice-ms 10\nconfig\nservice registry registry\n",
    );
  });

  it("starts process 1 with the capabilities docs/BOOT.md lists; its clean exit halts the machine", async () => {
    const s = system(0);
    const end = await s.run();
    expect(end).toEqual({ reason: "process 1 halted the machine", halted: true, status: 0 });
    expect(s.lines).toEqual(["boot: process 1 (init) started, pid 1"]);
  });

  it("resets the machine when process 1 ends, and gives up after three quick deaths", async () => {
    const s = system(3);
    const end = await s.run();
    expect(end.halted).toBe(false);
    expect(end.reason).toBe("process 1 exited with code 3, 3 times within 10 s of booting; giving up");
    expect(s.machines()).toBe(3);
    expect(s.lines).toEqual([
      "boot: process 1 (init) started, pid 1",
      "boot: process 1 exited with code 3; resetting the machine",
      "boot: process 1 (init) started, pid 1, boot 2",
      "boot: process 1 exited with code 3; resetting the machine",
      "boot: process 1 (init) started, pid 1, boot 3",
    ]);
  });
});
