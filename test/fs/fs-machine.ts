import { DiskImage } from "../../src/hosts/node/disk-image.ts";
import { bootBlockMachine, type BlockMachine } from "../drivers/block-machine.ts";
import type { BlockBackend } from "../../src/machine/devices/block-backend.ts";

/** A new disk image's size in the fs tests. */
export const DISK_BYTES = 64 << 20;

/** A machine that runs fsck on the disk (and nothing else). */
export const FSCK_LINES = "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice fsck fsck memory=1024\n";

/** The lines every fs machine starts with: the registry, the block driver and the server, which publishes its root as "fs". */
export const FS_LINES = `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=4096 publish=fs
`;

export interface BootOnDiskOptions {
  /** `param KEY VALUE` lines of the boot info (`format`: what `dogma boot --format` adds). */
  readonly params?: Record<string, string>;
  /** Open the image read-only (`dogma boot --read-only`): the block device refuses writes. */
  readonly readOnly?: boolean;
}

/**
 * Boots a machine on the disk image at `path` (made when missing) running `config` with the
 * modules it names; `halt()` ends it and closes the image, so another machine may boot on it.
 */
export async function bootOnDisk(path: string, config: string, modules: string[], options: BootOnDiskOptions = {}): Promise<BlockMachine & { close(): Promise<void> }> {
  const image = await DiskImage.open(path, DISK_BYTES, { readOnly: options.readOnly });
  const machine = await bootBlockMachine(config, ["registry", "block", ...modules], image, options.params);
  return Object.assign(machine, {
    async close() {
      await machine.halt();
      await image.close();
    },
  });
}

/** Waits until `program` prints its verdict line (PASS matches), failing with the console if it says FAIL or stops. */
export async function verdict(m: BlockMachine, pass: RegExp, failure: RegExp): Promise<string> {
  await m.until(`${pass}`, (lines) => lines.some((l) => pass.test(l) || failure.test(l)) || m.stderr().split("\n").some((l) => failure.test(l)));
  const fail = [...m.lines(), ...m.stderr().split("\n")].find((l) => failure.test(l));
  if (fail) throw new Error(`${fail}\n${m.lines().join("\n")}\n${m.stderr()}`);
  return m.lines().find((l) => pass.test(l))!;
}

/** Boots `lines` with `programs` on `disk` until `pass` (or `fail`) is said, then halts. */
export async function bootToVerdict(lines: string, programs: string[], disk: BlockBackend, pass: RegExp, fail: RegExp): Promise<void> {
  const m = await bootBlockMachine(lines, programs, disk);
  try {
    await verdict(m, pass, fail);
  } finally {
    await m.halt();
  }
}
