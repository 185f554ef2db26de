import type { IpcEdgeView } from "../../../../kernel/inspect.ts";
import { byId, row } from "../dom.ts";

/** Who sent to whom since the views opened, busiest first, with the rate since the last look. */
export class IpcTable {
  private readonly body = byId<HTMLTableElement>("ipc").tBodies[0]!;
  private last = new Map<string, number>();
  private lastAtNs = 0;

  render(edges: readonly IpcEdgeView[], atNs: number): void {
    const seconds = this.lastAtNs > 0 ? (atNs - this.lastAtNs) / 1e9 : 0;
    const now = new Map<string, number>();
    const rows = edges.slice(0, 14).map((edge) => {
      const key = `${edge.from}>${edge.to}`;
      const total = edge.calls + edge.sends;
      now.set(key, total);
      const rate = seconds > 0 ? Math.round((total - (this.last.get(key) ?? total)) / seconds) : 0;
      return row([`${edge.fromName} (${edge.from})`, `${edge.toName} (${edge.to})`, edge.calls, edge.sends, rate]);
    });
    for (const edge of edges) now.set(`${edge.from}>${edge.to}`, edge.calls + edge.sends);
    this.body.replaceChildren(...rows);
    this.last = now;
    this.lastAtNs = atNs;
  }
}
