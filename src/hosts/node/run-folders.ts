import { Cappage } from "../../kernel/caps/cappage.ts";
import type { Capability } from "../../kernel/caps/capability.ts";
import { ALL_RIGHTS, Rights } from "../../kernel/caps/object-abi.ts";
import { type Kernel, interruptLine } from "../../kernel/kernel.ts";
import type { Process } from "../../kernel/process.ts";
import type { LoadedImage } from "../../kernel/image.ts";
import type { InterruptSink } from "../../machine/devices.ts";
import { HostFolderDevice } from "../../machine/devices/host-folder.ts";
import { NodeFolder } from "./host-folder.ts";

/** One `--dir HOST[::GUEST][:ro]`. */
export interface FolderSpec {
  readonly host: string;
  readonly guest: string;
  readonly readOnly: boolean;
}

/** The first interrupt line of host folder devices (2 to 6 are the standard devices'). */
const FIRST_FOLDER_LINE = 7;
/** Pages each folder server may use: its 1 MiB DMA window, its handle table's paths (2 MiB), its code and stacks. */
const SERVER_PAGES = 2048;
/** How long a folder server may take to publish its root before `dogma run` gives up. */
const START_PATIENCE_MS = 10_000;

/**
 * Parses `--dir`'s value as wasmtime's: `HOST` (seen under its own name), `HOST::GUEST`, and
 * Dogma's `:ro` at the end for a read-only folder. Throws with a message a person can act on.
 */
export function parseFolderSpec(value: string): FolderSpec {
  const readOnly = value.endsWith(":ro");
  const spec = readOnly ? value.slice(0, -3) : value;
  const split = spec.indexOf("::");
  const host = split < 0 ? spec : spec.slice(0, split);
  const guest = split < 0 ? spec : spec.slice(split + 2);
  if (host === "") throw new Error(`--dir ${value}: no host folder before "::"`);
  if (guest === "") throw new Error(`--dir ${value}: no guest name after "::"`);
  return { host, guest, readOnly };
}

/** The host folders of a run: each a device on the machine, served by its own folder server. */
export class RunFolders {
  readonly devices: HostFolderDevice[];
  private readonly specs: readonly FolderSpec[];
  private readonly cappages: Cappage[] = [];
  private readonly servers: Process[] = [];

  private constructor(specs: readonly FolderSpec[], devices: HostFolderDevice[]) {
    this.specs = specs;
    this.devices = devices;
  }

  /** Opens every folder (throws naming the one that is not a folder); `interrupts` is where the devices raise their lines. */
  static async open(specs: readonly FolderSpec[], interrupts: InterruptSink): Promise<RunFolders> {
    const devices: HostFolderDevice[] = [];
    for (const [i, spec] of specs.entries()) {
      let backend: NodeFolder;
      try {
        backend = await NodeFolder.open(spec.host, spec.readOnly);
      } catch (error) {
        throw new Error(`--dir ${spec.host}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      devices.push(new HostFolderDevice(FIRST_FOLDER_LINE + i, interrupts, backend, `folder${i}`));
    }
    return new RunFolders(specs, devices);
  }

  /** Starts a folder server (user/services/folderfs.ts) for each folder, with the slots it expects. */
  startServers(kernel: Kernel, server: LoadedImage): void {
    for (const device of this.devices) {
      const memory = kernel.memoryObject(SERVER_PAGES);
      const published = new Cappage();
      this.cappages.push(published);
      this.servers.push(
        kernel.spawn(server, {
          args: ["folderfs"],
          memory,
          priority: 1,
          caps: [
            kernel.capability(memory, Rights.MEMORY_INFO), // slot 2: a registry under init; here nothing to register with
            kernel.capability(kernel.deviceObject(device), ALL_RIGHTS),
            kernel.capability(kernel.interruptObject(interruptLine({ line: "irq", number: device.line })), Rights.INTERRUPT_BIND),
            kernel.capability(memory, ALL_RIGHTS),
            kernel.capability(published, ALL_RIGHTS),
          ],
        }),
      );
    }
  }

  /** Waits (the kernel running) until every server has published its root: a call capability to each, or throws why not. */
  async roots(): Promise<Capability[]> {
    const until = Date.now() + START_PATIENCE_MS;
    for (;;) {
      const published = this.cappages.map((page) => page.get(0));
      if (published.every((cap) => cap !== null)) return published.map((cap) => cap!.derive(Rights.RECEIVER_CALL));
      this.servers.forEach((server, i) => {
        if (!server.alive) throw new Error(`the folder server for --dir ${this.specs[i]!.host} ended before it served (${JSON.stringify(server.outcome)})`);
      });
      if (Date.now() > until) throw new Error("the folder servers did not start within 10 s");
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The names the program sees its folders under, in fd order. */
  get guestNames(): string[] {
    return this.specs.map((spec) => spec.guest);
  }

  /** Ends the servers (the program has ended; they would wait for calls for ever). */
  async stop(kernel: Kernel): Promise<void> {
    for (const server of this.servers) {
      while (server.alive && kernel.kill(server.pid) !== 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
