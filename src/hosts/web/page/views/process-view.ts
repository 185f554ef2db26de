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
  private readonly rows = new Map<number, LiveRow>();

  constructor(select: (pid: number) => void, operate: (operation: PanelOperation, pid: number) => void) {
    this.select = select;
    this.operate = operate;
  }

  render(live: readonly ProcessView[], ended: readonly ProcessView[]): void {
    const seen = new Set<number>();
    live.forEach((p, index) => {
      seen.add(p.pid);
      const shown = this.rows.get(p.pid) ?? this.newRow(p);
      this.update(shown, p);
      // Rows are kept and moved only when out of place: a click (down, then up) lands on the button
      // it began on, where replacing every row at each snapshot could swallow it.
      if (this.live.rows[index] !== shown.tr) this.live.insertBefore(shown.tr, this.live.rows[index] ?? null);
    });
    for (const [pid, shown] of this.rows) {
      if (seen.has(pid)) continue;
      shown.tr.remove();
      this.rows.delete(pid);
    }
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

  private newRow(p: ProcessView): LiveRow {
    const tr = row(new Array<string>(10).fill(""));
    tr.dataset.pid = String(p.pid);
    const switches = document.createElement("td");
    switches.className = "switches";
    switches.append(button("kill", `kill pid ${p.pid} through the front panel`, () => this.operate("kill", p.pid)));
    tr.append(switches);
    tr.addEventListener("click", () => {
      this.selected = p.pid;
      this.select(p.pid);
    });
    const shown: LiveRow = { tr, cells: Array.from(tr.cells).slice(0, 10), switches, toggle: null, suspended: false };
    this.rows.set(p.pid, shown);
    return shown;
  }

  /** Writes only what changed, so that an unchanged row's elements (and a click on them) stay. */
  private update(shown: LiveRow, p: ProcessView): void {
    const texts = [p.pid, p.name, p.state, p.priority, (p.cpuMicros / 1000).toFixed(1), p.pages, p.pagedOut, p.pageIns, p.faults, p.capabilities];
    texts.forEach((text, i) => {
      const cell = shown.cells[i]!;
      if (cell.textContent !== String(text)) cell.textContent = String(text);
    });
    shown.tr.className = p.pid === this.selected ? "selected" : "";
    shown.tr.dataset.state = p.state;
    const suspended = p.state === "suspended";
    if (shown.toggle && shown.suspended === suspended) return;
    const toggle = suspended
      ? button("resume", `resume pid ${p.pid}`, () => this.operate("resume", p.pid))
      : button("suspend", `suspend pid ${p.pid}`, () => this.operate("suspend", p.pid));
    if (shown.toggle) shown.toggle.replaceWith(toggle);
    else shown.switches.append(toggle);
    shown.toggle = toggle;
    shown.suspended = suspended;
  }
}

/** A live process's row as shown: its text cells and its switches. */
interface LiveRow {
  readonly tr: HTMLTableRowElement;
  readonly cells: readonly HTMLTableCellElement[];
  readonly switches: HTMLTableCellElement;
  toggle: HTMLButtonElement | null;
  suspended: boolean;
}
