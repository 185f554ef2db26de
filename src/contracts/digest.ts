import { compileContract } from "./compile.ts";

/**
 * A contract's identity for compatibility checks (manifests, install): its name and a digest of
 * its compiled table, written `Name@digest`. Two texts that compile to the same table (comments,
 * spacing, labels written or numbered the same) are the same contract; any change to a state,
 * a message, a label, a shape or a transition is another. The digest is 64-bit FNV-1a over the
 * table's bytes: an identity, not a seal (the kernel checks every message whatever a binary
 * claims).
 */
export function contractDigest(text: string): string {
  const { name, table } = compileContract(text);
  return `${name}@${tableDigest(table)}`;
}

/** 16 hex digits of FNV-1a 64 over the table's little-endian bytes. */
export function tableDigest(table: Uint32Array): string {
  let hash = 0xcbf29ce484222325n;
  const bytes = new Uint8Array(table.buffer, table.byteOffset, table.byteLength);
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffff_ffff_ffff_ffffn;
  return hash.toString(16).padStart(16, "0");
}
