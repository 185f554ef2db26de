// A binary's manifest read from its file, for a binary too big to hold whole (past 16 MiB the
// shell hands it to an image builder a piece at a time): the section headers are read a window at
// a time, so a binary of 256 MiB costs one small read per section. Without this a big binary ran
// with no manifest looked at, and the grants of one (the shell's own session: halt, kill)
// instead of a bare binary's.
import { FsClient } from "./fs-client";
import { statusText } from "./status-text";
import {
  MAX_MANIFEST_BYTES, NOT_WASM, TWO_MANIFESTS, WASM_MAGIC, manifestAt, readSectionHeader, sectionEnd, setManifestSectionError,
} from "./manifest";

/** A window holds any section header whose name can be the manifest's: id, two LEB128s, 14 bytes. */
const HEADER_WINDOW: u32 = 32;

/**
 * The manifest text of the `size`-byte binary `file`, read through `reader` (whose buffer holds at
 * least MAX_MANIFEST_BYTES); null when it has none or it is malformed: then manifestSectionError says why.
 */
export function manifestTextInFile(reader: FsClient, file: i32, size: u32): string | null {
  setManifestSectionError("");
  if (size >= 8 && !readAll(reader, file, 0, 4)) return null;
  if (size < 8 || load<u32>(reader.address) != WASM_MAGIC) {
    setManifestSectionError(NOT_WASM);
    return null;
  }
  let found: string | null = null;
  let at: u32 = 8;
  while (at < size) {
    const window = min(HEADER_WINDOW, size - at);
    if (!readAll(reader, file, at, window) || !readSectionHeader(reader.address, at, at + window, at, size)) return null;
    if (manifestAt != 0) {
      if (found != null) {
        setManifestSectionError(TWO_MANIFESTS);
        return null;
      }
      const length = sectionEnd - manifestAt;
      if (<i32>length > MAX_MANIFEST_BYTES || !readAll(reader, file, manifestAt, length)) return null;
      found = String.UTF8.decodeUnsafe(reader.address, length);
    }
    at = sectionEnd;
  }
  return found;
}

/** Reads `length` bytes at `offset` into the start of `reader`'s buffer; false (and why) when it cannot. */
function readAll(reader: FsClient, file: i32, offset: u32, length: u32): bool {
  let done: u32 = 0;
  while (done < length) {
    const n = reader.read(file, <u64>(offset + done), length - done, done);
    if (n <= 0) {
      setManifestSectionError("reading byte " + (offset + done).toString() + " of it: " + (n < 0 ? statusText(n) : "it ended early"));
      return false;
    }
    done += <u32>n;
  }
  return true;
}
