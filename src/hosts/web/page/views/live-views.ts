import type { PanelOperation } from "../../../../machine/devices/panel.ts";
import type { Snapshot } from "../../protocol.ts";
import type { MachineLink } from "../machine-link.ts";
import { byId } from "../dom.ts";
import { CapabilityTable } from "./capability-view.ts";
import { FrameMap } from "./frame-view.ts";
import { IpcTable } from "./ipc-view.ts";
import { ProcessTable } from "./process-view.ts";
import { Timeline } from "./timeline-view.ts";

/** How often the open views ask the machine for a snapshot. */
const PERIOD_MS = 500;

/**
 * The live views: while open, they ask the machine's worker for a snapshot every half second (the
 * worker answers between two process slices, from the kernel's inspection interface) and redraw.
 * Closed, they ask nothing and the kernel's observers are off.
 */
export class LiveViews {
  private readonly link: MachineLink;
  private readonly processes: ProcessTable;
  private readonly caps = new CapabilityTable();
  private readonly frames = new FrameMap();
  private readonly ipc = new IpcTable();
  private readonly timeline = new Timeline();
  private readonly names = new Map<number, string>();
  private readonly answer = byId("panel-answer");
  private selected: number | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private asked = false;
  private nextPanelId = 1;

  private readonly done: () => void;

  constructor(link: MachineLink, done: () => void) {
    this.link = link;
    this.done = done;
    this.processes = new ProcessTable(
      (pid) => {
        this.selected = pid;
        this.ask();
      },
      (operation, pid) => this.operate(operation, pid),
    );
    link.on("snapshot", ({ snapshot }) => this.render(snapshot));
    link.on("panel-answer", ({ message, status }) => {
      this.answer.textContent = message;
      this.answer.className = status === 0 ? "answer ok" : "answer refused";
      this.ask();
    });
  }

  open(on: boolean): void {
    byId("views").hidden = !on;
    this.link.send({ kind: "views", on });
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = on ? setInterval(() => this.ask(), PERIOD_MS) : null;
    if (on) this.ask();
  }

  private ask(): void {
    if (this.asked || !this.link.running) return;
    this.asked = true;
    this.link.send({ kind: "snapshot", capsOf: this.selected, timelineAfterNs: this.timeline.lastNs });
  }

  private operate(operation: PanelOperation, pid: number): void {
    this.answer.textContent = `${operation} ${pid}…`;
    this.answer.className = "answer";
    this.link.send({ kind: "panel", id: this.nextPanelId++, operation, pid });
    this.done();
  }

  private render(snapshot: Snapshot | null): void {
    this.asked = false;
    if (!snapshot) return;
    for (const p of [...snapshot.live, ...snapshot.ended]) this.names.set(p.pid, p.name);
    this.processes.render(snapshot.live, snapshot.ended);
    this.caps.render(snapshot.caps, snapshot.caps ? (this.names.get(snapshot.caps.pid) ?? null) : null);
    this.frames.render(snapshot.frames, this.names);
    this.ipc.render(snapshot.ipc, snapshot.atNs);
    this.timeline.add(snapshot.timeline, this.names);
  }
}
