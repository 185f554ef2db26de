import { FrameKind, type FrameMapView } from "../../../../kernel/inspect.ts";
import { byId } from "../dom.ts";
import { pidColor } from "./colors.ts";

/** Each kind's color and name in the legend; a private frame takes its owner's color instead. */
const KINDS: ReadonlyArray<{ kind: number; name: string; color: string }> = [
  { kind: FrameKind.FREE, name: "free", color: "#1b2127" },
  { kind: FrameKind.KERNEL, name: "kernel", color: "#6c7682" },
  { kind: FrameKind.OBJECT, name: "object", color: "#3d7bd9" },
  { kind: FrameKind.COPY_ON_WRITE, name: "copy-on-write", color: "#e0902f" },
  { kind: FrameKind.PRIVATE, name: "private", color: "linear-gradient(90deg,#e55,#5e5,#55e)" },
];

/**
 * The frame map: one pixel per physical frame, colored by what holds it — free, the kernel's
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
    this.canvas.height = Math.ceil(count / columns);
    const context = this.canvas.getContext("2d")!;
    const tally = new Array<number>(KINDS.length).fill(0);
    const owners = new Map<number, number>();
    for (let frame = 0; frame < count; frame++) {
      const kind = frames.kinds[frame]!;
      const owner = frames.owners[frame]!;
      tally[kind]!++;
      if (kind === FrameKind.PRIVATE) owners.set(owner, (owners.get(owner) ?? 0) + 1);
      context.fillStyle = kind === FrameKind.PRIVATE ? pidColor(owner) : KINDS[kind]!.color;
      context.fillRect(frame % columns, Math.floor(frame / columns), 1, 1);
    }
    const busiest = [...owners].sort((a, b) => b[1] - a[1]).slice(0, 4);
    this.note.textContent = `${count} frames of 4 KiB`;
    this.legend.replaceChildren(
      ...KINDS.map(({ kind, name, color }) => swatch(color, `${name} ${tally[kind]}`)),
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
