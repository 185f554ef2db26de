import type { GivenEntry } from "../protocol.ts";
import type { MachineLink } from "./machine-link.ts";
import { byId } from "./dom.ts";

interface PickerWindow {
  showDirectoryPicker?: (options?: { mode?: "read" }) => Promise<FileSystemDirectoryHandle>;
}

interface HandleItem {
  getAsFileSystemHandle?: () => Promise<FileSystemHandle | null>;
}

/**
 * Files the user gives the page become /host, read-only: a folder picked with the File System
 * Access API, or files and folders dropped on the page. A dropped .wasm file is also handed to the
 * loader, which says whether it would run it, and why not.
 */
export function wireShareControls(link: MachineLink, report: (text: string) => void): void {
  const picker = (window as PickerWindow).showDirectoryPicker;
  const pick = byId<HTMLButtonElement>("pick-folder");
  if (!picker) {
    pick.disabled = true;
    pick.title = "This browser cannot pick folders (File System Access API): drop files on the page instead";
  } else {
    pick.addEventListener("click", async () => {
      try {
        const directory = await picker({ mode: "read" });
        give(link, [{ name: directory.name, directory }], report);
      } catch {
        // Cancelled.
      }
    });
  }
  const hint = byId("drop-hint");
  window.addEventListener("dragover", (event) => {
    event.preventDefault();
    hint.hidden = false;
  });
  window.addEventListener("dragleave", (event) => {
    if (event.relatedTarget === null) hint.hidden = true;
  });
  window.addEventListener("drop", async (event) => {
    event.preventDefault();
    hint.hidden = true;
    const entries: GivenEntry[] = [];
    const items = Array.from(event.dataTransfer?.items ?? []).filter((item) => item.kind === "file");
    // Every handle is asked for before the first await: the DataTransfer is gone after it.
    const handles = items.map((item) => (item as unknown as HandleItem).getAsFileSystemHandle?.() ?? Promise.resolve(null));
    const files = items.map((item) => item.getAsFile());
    for (const [i, pending] of handles.entries()) {
      const handle = await pending.catch(() => null);
      if (handle?.kind === "directory") entries.push({ name: handle.name, directory: handle as FileSystemDirectoryHandle });
      else if (files[i]) entries.push({ name: files[i]!.name, file: files[i]! });
    }
    give(link, entries, report);
  });
}

function give(link: MachineLink, entries: GivenEntry[], report: (text: string) => void): void {
  if (entries.length === 0) return;
  link.send({ kind: "give", entries });
  for (const entry of entries) {
    if ("file" in entry && entry.name.endsWith(".wasm")) {
      report(`checking ${entry.name} with the loader…`);
      void entry.file.arrayBuffer().then((bytes) => link.send({ kind: "check-binary", name: entry.name, bytes }, [bytes]));
    }
  }
}
