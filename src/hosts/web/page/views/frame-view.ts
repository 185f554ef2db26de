import { FrameKind, type FrameMapView } from "../../../../kernel/inspect.ts";
import { byId } from "../dom.ts";
import { pidColor } from "./colors.ts";

const KIND_COLORS: Record<number, string> = {
  [FrameKind.FREE]: "#1b2127",
  [FrameKind.KERNEL]: "#6c7682",
  [FrameKind.OBJECT]: "#3d7bd9",
  [FrameKind.COPY_ON_WRITE]: "#e0902f",
};

/**
 * The frame map: one cell per physical frame, colored by what holds it — free, the kernel's
 * (tables, TLBs, descriptors, images), an object's (a Page or Region), shared copy-on-write, or a
 * process's own (its pid's color). Paged-out pages have no frame: they are counted beside.
 */
export class FrameMap {
  private readonly canvas = byId<HTMLCanvasElement>("frames");
  private readonly legend = byId("frames-legend");
  private readonly note = byId("frames-note");

  render(frames: FrameMapView, names: ReadonlyMap<number, string>): void {
    const count = frames.kinds.length;
    // A pixel per frame, 512 to a row (2 MiB); the page scales the canvas to its pane.
    const columns = this.canvas.width;
    const cell = 1;
    const rows = Math.ceil(count / columns);
    this.canvas.height = rows * cell;
    const context = this.canvas.getContext("2d")!;
    const tally = new Map<string, number>();
    const owners = new Map<number, number>();
    for (let frame = 0; frame < count; frame++) {
      const kind = frames.kinds[frame]!;
      const owner = frames.owners[frame]!;
      context.fillStyle = kind === FrameKind.PRIVATE ? pidColor(owner) : KIND_COLORS[kind]!;
      context.fillRect((frame % columns) * cell, Math.floor(frame / columns) * cell, cell, cell);
      const label = kind === FrameKind.PRIVATE ? "private" : (Object.keys(FrameKind).find((k) => FrameKind[k as keyof typeof FrameKind] === kind) ?? "?").toLowerCase().replace(/_/g, "-");
      tally.set(label, (tally.get(label) ?? 0) + 1);
      if (kind === FrameKind.PRIVATE) owners.set(owner, (owners.get(owner) ?? 0) + 1);
    }
    const busiest = [...owners].sort((a, b) => b[1] - a[1]).slice(0, 4);
    this.note.textContent = `${count} frames of 4 KiB`;
    this.legend.replaceChildren(
      ...["free", "kernel", "object", "copy-on-write", "private"].map((label) => swatch(label === "private" ? "linear-gradient(90deg,#e55,#5e5,#55e)" : KIND_COLORS[Object.values(FrameKind)[["free", "kernel", "object", "copy-on-write"].indexOf(label)]!]!, `${label} ${tally.get(label) ?? 0}`)),
      swatch("transparent", `paged out ${frames.pagedOut}`),
      ...busiest.map(([pid, n]) => swatch(pidColor(pid), `${names.get(pid) ?? pid} ${n}`)),
    );
  }
}

function swatch(color: string, text: string): HTMLElement {
  const item = document.createElement("span");
  const box = document.createElement("i");
  box.style.background = color;
  item.append(box, text);
  return item;
}
