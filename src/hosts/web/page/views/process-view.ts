import type { ProcessView } from "../../../../kernel/inspect.ts";
import type { PanelOperation } from "../../../../machine/devices/panel.ts";
import { button, byId, row } from "../dom.ts";

/**
 * Processes: pid, name, state, priority, CPU, pages (resident and paged out), page-ins, faults
 * (repaired by its handler, and the one that ended it), capabilities, and
 * the switches of the front panel; below, those that ended and how. Clicking a row shows its
 * capability table. The switches do nothing themselves: the panel's driver acts, with what process 1
 * granted it (docs/WEB.md "What the switches can do").
 */
export class ProcessTable {
  private readonly live = byId<HTMLTableElement>("processes").tBodies[0]!;
  private readonly ended = byId<HTMLTableElement>("ended").tBodies[0]!;
  private readonly note = byId("processes-note");
  private selected: number | null = null;
  private readonly select: (pid: number) => void;
  private readonly operate: (operation: PanelOperation, pid: number) => void;

  constructor(select: (pid: number) => void, operate: (operation: PanelOperation, pid: number) => void) {
    this.select = select;
    this.operate = operate;
  }

  render(live: readonly ProcessView[], ended: readonly ProcessView[]): void {
    this.live.replaceChildren(
      ...live.map((p) => {
        const tr = row([p.pid, p.name, p.state, p.priority, (p.cpuMicros / 1000).toFixed(1), p.pages, p.pagedOut, p.pageIns, p.faults, p.capabilities], p.pid === this.selected ? "selected" : "");
        tr.dataset.pid = String(p.pid);
        tr.dataset.state = p.state;
        const switches = document.createElement("td");
        switches.className = "switches";
        switches.append(
          button("kill", `kill pid ${p.pid} through the front panel`, () => this.operate("kill", p.pid)),
          p.state === "suspended"
            ? button("resume", `resume pid ${p.pid}`, () => this.operate("resume", p.pid))
            : button("suspend", `suspend pid ${p.pid}`, () => this.operate("suspend", p.pid)),
        );
        tr.append(switches);
        tr.addEventListener("click", () => {
          this.selected = p.pid;
          this.select(p.pid);
        });
        return tr;
      }),
    );
    this.ended.replaceChildren(
      ...ended
        .slice(-12)
        .reverse()
        .map((p) => {
          const tr = row([p.pid, p.name, p.end ?? ""], p.end?.startsWith("faulted") ? "faulted" : "");
          tr.dataset.pid = String(p.pid);
          return tr;
        }),
    );
    this.note.textContent = `${live.length} live`;
  }
}
