/**
 * The page: Dogma's console on a terminal, the live views beside it, the disk and share controls
 * above. The machine runs in a worker (docs/WEB.md "Why a worker"); this thread only draws and
 * forwards keys, so the page stays responsive whatever the machine does.
 */
import { hasJspi, NO_JSPI_MESSAGE } from "../jspi.ts";
import type { DiskStore } from "../protocol.ts";
import { wireDiskControls } from "./disk-controls.ts";
import { byId } from "./dom.ts";
import { MachineLink } from "./machine-link.ts";
import { hideNotice, showNotice } from "./notice.ts";
import { wireShareControls } from "./share-controls.ts";
import { TerminalView } from "./terminal-view.ts";
import { LiveViews } from "./views/live-views.ts";
import "./style.css";

/** What tests and benchmarks read from the page (they drive it through its UI). */
interface PageProbe {
  terminalText(): string;
  terminalSize(): { cols: number; rows: number };
  /** performance.now() when the shell's prompt first showed (null: not yet). */
  promptMs: number | null;
  /** performance.now() when the machine's worker had loaded its code. */
  workerReadyMs: number | null;
  bootInfo: { cachedModules: number; rewrittenModules: number; fetchMs: number; loadMs: number } | null;
  ended: string | null;
}

const params = new URLSearchParams(location.search);
const probe: PageProbe = { terminalText: () => "", terminalSize: () => ({ cols: 0, rows: 0 }), promptMs: null, workerReadyMs: null, bootInfo: null, ended: null };
(window as unknown as { dogma: PageProbe }).dogma = probe;
const PROMPT = /^dogma:.*\$ $/;

function status(text: string): void {
  byId("status").textContent = text;
}

function start(): void {
  if (!hasJspi()) {
    document.body.classList.add("unsupported");
    showNotice("Dogma cannot run in this browser", NO_JSPI_MESSAGE);
    return;
  }
  const link = new MachineLink();
  const terminal = new TerminalView(byId("terminal"), (bytes) => link.send({ kind: "input", bytes }));
  probe.terminalText = () => terminal.text();
  probe.terminalSize = () => terminal.size;
  // A click on the views' switches leaves the keyboard with the terminal.
  const views = new LiveViews(link, () => terminal.focus());
  const store = (params.get("disk") ?? "opfs") as DiskStore;
  const boot = (how: { replaceWith?: ArrayBuffer; format?: boolean } = {}) =>
    link.boot({ bootBase: new URL("boot/", location.href).href, store, cache: params.get("cache") !== "0", memoryBytes: Number(params.get("memory") ?? 128) << 20, ...how });
  const reboot = async (how: { replaceWith?: ArrayBuffer; format?: boolean }) => {
    await link.shutdown();
    terminal.note(how.format ? "— formatting the disk and booting again —" : how.replaceWith ? "— booting the uploaded disk —" : "— booting again —");
    probe.promptMs = null;
    boot(how);
    views.open(viewsToggle.checked);
  };
  const disk = wireDiskControls(link, reboot);
  byId("halt").addEventListener("click", () => link.send({ kind: "halt" }));
  wireShareControls(link, status);

  link.on("output", ({ bytes }) =>
    terminal.write(bytes, () => {
      if (probe.promptMs === null && PROMPT.test(terminal.currentLine())) {
        probe.promptMs = performance.now();
        status(`at the prompt ${(probe.promptMs / 1000).toFixed(2)} s after the page opened`);
      }
    }),
  );
  link.on("status", ({ text }) => status(text));
  link.on("disk", ({ store: where, bytes, fresh, note }) => {
    byId("disk-info").textContent = `disk: ${where === "opfs" ? "OPFS" : where === "idb" ? "IndexedDB" : "memory"}, ${bytes >> 20} MiB${fresh ? ", new" : ""}`;
    byId<HTMLButtonElement>("download-disk").disabled = false;
    if (note) terminal.note(note);
  });
  const refuse = (reason: string): void =>
    showNotice(
      "The disk in this browser cannot be mounted",
      `${reason}. Dogma did not boot rather than let the file system format it: format it to start over, or download it first to keep what is there.`,
      [
        // The offer stays up while the download goes: formatting is the next step.
        { label: "Download it first", run: () => (disk.download(), refuse(reason)) },
        { label: "Format the disk", run: () => void reboot({ format: true }) },
      ],
    );
  link.on("disk-refused", ({ reason }) => refuse(reason));
  link.on("booted", (info) => {
    probe.bootInfo = info;
    probe.workerReadyMs = link.readyMs;
    status(`booted: ${info.cachedModules} modules from the cache, ${info.rewrittenModules} rewritten, loaded in ${Math.round(info.loadMs)} ms`);
  });
  link.on("ended", ({ reason }) => {
    probe.ended = reason;
    showNotice("The machine stopped", reason, [{ label: "Boot again", run: () => void reboot({}) }], "info");
  });
  link.on("fatal", ({ message }) => showNotice("Dogma stopped", message));
  link.on("binary-checked", ({ name, accepted, message }) => {
    status(`${name}: ${message}`);
    showNotice(accepted ? `${name} loads` : `The loader refused ${name}`, message, [{ label: "OK", run: () => terminal.focus() }], accepted ? "info" : "error");
  });

  const viewsToggle = byId<HTMLInputElement>("views-toggle");
  viewsToggle.checked = params.get("views") !== "0";
  viewsToggle.addEventListener("change", () => views.open(viewsToggle.checked));
  hideNotice();
  boot();
  views.open(viewsToggle.checked);
}

start();
