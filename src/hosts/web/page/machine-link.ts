import type { BootRequest, PageMessage, WorkerMessage } from "../protocol.ts";

type Handler<K extends WorkerMessage["kind"]> = (message: Extract<WorkerMessage, { kind: K }>) => void;

/**
 * The page's end of the machine's worker: typed messages both ways. A machine is one worker; to
 * boot another disk (after a format or an upload) the page shuts this one down and makes another.
 */
export class MachineLink {
  private worker: Worker | null = null;
  /** performance.now() when the worker's code had loaded and it listened (the last boot's). */
  readyMs: number | null = null;
  private readonly handlers = new Map<string, Array<(message: WorkerMessage) => void>>();

  on<K extends WorkerMessage["kind"]>(kind: K, handler: Handler<K>): void {
    const list = this.handlers.get(kind) ?? [];
    list.push(handler as (message: WorkerMessage) => void);
    this.handlers.set(kind, list);
  }

  boot(request: Omit<BootRequest, "kind">): void {
    const worker = new Worker(new URL("../worker/machine-worker.ts", import.meta.url), { type: "module", name: "dogma-machine" });
    this.worker = worker;
    // Until the worker says it listens, what is sent waits here (its module may still be loading).
    const early: Array<[PageMessage, Transferable[]]> = [];
    this.send = (message, transfer = []) => void early.push([message, transfer]);
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      if (event.data.kind === "ready") {
        this.readyMs = performance.now();
        this.send = (message, transfer = []) => worker.postMessage(message, transfer);
        for (const [message, transfer] of early.splice(0)) worker.postMessage(message, transfer);
        return;
      }
      for (const handler of this.handlers.get(event.data.kind) ?? []) handler(event.data);
    };
    this.worker.onerror = (event) => {
      for (const handler of this.handlers.get("fatal") ?? []) handler({ kind: "fatal", message: `the machine's worker failed: ${event.message || "it could not start"}` });
    };
    this.send({ kind: "boot", ...request }, request.replaceWith ? [request.replaceWith] : []);
  }

  /** Sends to the worker (held until it is ready; dropped when there is none). */
  send: (message: PageMessage, transfer?: Transferable[]) => void = () => {};

  get running(): boolean {
    return this.worker !== null;
  }

  /** Flushes and closes the disk, then ends the worker (its disk lock goes with it). */
  async shutdown(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((done) => {
      const timeout = setTimeout(done, 3000);
      worker.addEventListener("message", (event: MessageEvent<WorkerMessage>) => {
        if (event.data.kind === "shut-down") {
          clearTimeout(timeout);
          done();
        }
      });
      worker.postMessage({ kind: "shutdown" } satisfies PageMessage);
    });
    worker.terminate();
    this.worker = null;
    this.send = () => {};
  }
}
