import { BLOCK_BYTES, checkSuperblock } from "../disk-check.ts";
import type { MachineLink } from "./machine-link.ts";
import { byId } from "./dom.ts";
import { showNotice } from "./notice.ts";

/** What the disk controls need of the page: to boot a new machine on a replaced or wiped disk. */
export interface Reboot {
  (how: { replaceWith?: ArrayBuffer; format?: boolean }): Promise<void>;
}

/**
 * Download, upload and format of the disk. The image is the same raw format as `dogma boot --disk`
 * uses, so a disk moves between Node and the browser. A download flushes first and copies the disk
 * as it is that moment (what a crash would leave: it mounts, replaying its journal). An upload is
 * checked before it replaces anything, and a format asks first: both boot a new machine.
 */
export function wireDiskControls(link: MachineLink, reboot: Reboot): { download(): void; format(): void } {
  const downloadButton = byId<HTMLButtonElement>("download-disk");
  const upload = byId<HTMLInputElement>("upload-disk");

  const download = () => link.send({ kind: "download-disk" });
  link.on("disk-image", ({ bytes }) => {
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = "dogma-disk.img";
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  const format = () =>
    showNotice("Format the disk?", "This erases every file on the disk this browser keeps for this page. Download it first to keep a copy.", [
      { label: "Download it first", run: download },
      { label: "Format", run: () => void reboot({ format: true }) },
      { label: "Cancel", run: () => {} },
    ]);
  downloadButton.addEventListener("click", download);
  byId("format-disk").addEventListener("click", format);
  upload.addEventListener("change", async () => {
    const file = upload.files?.[0];
    upload.value = "";
    if (!file) return;
    const bytes = await file.arrayBuffer();
    const verdict = checkSuperblock(new Uint8Array(bytes, 0, Math.min(bytes.byteLength, BLOCK_BYTES)), bytes.byteLength);
    if (!verdict.ok) return showNotice(`${file.name} is not a Dogma disk`, `${verdict.reason}. Nothing was replaced.`);
    showNotice(`Replace the disk with ${file.name}?`, `${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB. The disk this browser keeps now is overwritten: download it first to keep a copy.`, [
      { label: "Download the current one first", run: download },
      { label: "Replace and boot", run: () => void reboot({ replaceWith: bytes }) },
      { label: "Cancel", run: () => {} },
    ]);
  });
  return { download, format };
}
