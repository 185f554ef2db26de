import type { CapabilityView } from "../../../../kernel/inspect.ts";
import { byId, row } from "../dom.ts";

/** One process's capability table: slot, kind, rights (hex), badge and what the capability names. */
export class CapabilityTable {
  private readonly body = byId<HTMLTableElement>("caps").tBodies[0]!;
  private readonly title = byId("caps-of");

  render(caps: { pid: number; table: CapabilityView[] | null } | null, name: string | null): void {
    if (!caps) return;
    if (!caps.table) {
      this.title.textContent = `of pid ${caps.pid}: it has ended`;
      this.body.replaceChildren();
      return;
    }
    this.title.textContent = `of pid ${caps.pid}${name ? ` (${name})` : ""}: ${caps.table.length}`;
    this.body.replaceChildren(...caps.table.map((c) => row([c.slot, c.kind, `0x${c.rights.toString(16)}`, c.badge, c.object])));
  }
}
