import type { DataSegment } from "../kernel/image.ts";

/**
 * Where rewritten modules are kept between runs, keyed by a content hash. Hosts supply one (a
 * folder on Node); the loader only sees this interface. A cache may lose entries at any time.
 */
export interface ModuleCache {
  get(key: string): Promise<Uint8Array | null>;
  put(key: string, record: Uint8Array): Promise<void>;
  /**
   * The same as `put` of the parts joined (`recordParts`), for a cache that can store them as
   * they are: a big module's record is then never copied whole. The parts are the loader's again
   * once it resolves (it frees the rewritten binary then): keep none of them.
   */
  putParts?(key: string, parts: readonly Uint8Array[]): Promise<void>;
}

/** What a cache record holds: the rewritten binary and the facts the loader learned. */
export interface CacheRecord {
  readonly rewritten: Uint8Array;
  readonly initialPages: number;
  readonly maximumPages: number;
  readonly hasInit: boolean;
  readonly cloneable: boolean;
  readonly importModules: readonly string[];
  readonly segments: readonly DataSegment[];
  readonly instanceBytes: number;
}

const MAGIC = 0x434d4744; // "DGMC"

interface Header {
  initialPages: number;
  maximumPages: number;
  hasInit: boolean;
  cloneable: boolean;
  importModules: string[];
  instanceBytes: number;
  segments: Array<{ offset: number | null; length: number }>;
  rewrittenLength: number;
}

/**
 * Layout: magic, header length, JSON header, rewritten binary, then each segment's bytes. The
 * parts in order, without copying the binary or the segments.
 */
export function recordParts(record: CacheRecord): Uint8Array[] {
  const header: Header = {
    initialPages: record.initialPages,
    maximumPages: record.maximumPages,
    hasInit: record.hasInit,
    cloneable: record.cloneable,
    importModules: [...record.importModules],
    instanceBytes: record.instanceBytes,
    segments: record.segments.map((s) => ({ offset: s.offset, length: s.data.length })),
    rewrittenLength: record.rewritten.length,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const prefix = new Uint8Array(8 + json.length);
  const view = new DataView(prefix.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, json.length, true);
  prefix.set(json, 8);
  return [prefix, record.rewritten, ...record.segments.map((s) => s.data)];
}

/** The record as one buffer (recordParts joined). */
export function encodeRecord(record: CacheRecord): Uint8Array {
  const parts = recordParts(record);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The record, or null when the bytes are not a well-formed record (a damaged cache misses). */
export function decodeRecord(bytes: Uint8Array): CacheRecord | null {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 8 || view.getUint32(0, true) !== MAGIC) return null;
    const jsonLength = view.getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + jsonLength))) as Header;
    let at = 8 + jsonLength;
    const take = (length: number, copy: boolean) => {
      if (at + length > bytes.length) throw new RangeError("truncated cache record");
      const blob = copy ? bytes.slice(at, at + length) : bytes.subarray(at, at + length);
      at += length;
      return blob;
    };
    // The binary is only compiled, then dropped with the record: a view (a copy of yosys's 61 MB
    // took 35 ms of a warm start). The segments stay with the image: copies, so that the record
    // can go.
    const rewritten = take(header.rewrittenLength, false);
    const segments = header.segments.map((s) => ({ offset: s.offset, data: take(s.length, true) }));
    if (at !== bytes.length || !plausible(header)) return null;
    return { ...header, rewritten, segments };
  } catch {
    return null;
  }
}

const isCount = (n: unknown, most: number): boolean => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= most;

/**
 * Whether a header's facts are ones the loader could have written: the kernel sizes, charges and
 * fills a process from them (a negative `instanceBytes` would credit its Memory's quota, a segment
 * offset off the 32-bit space makes spawn throw). A record that passed the host's own check can
 * only be wrong this way through a bug or a hand-made file; either way it is a miss.
 */
function plausible(header: Header): boolean {
  return (
    isCount(header.initialPages, 65536) &&
    isCount(header.maximumPages, 65536) &&
    header.initialPages <= header.maximumPages &&
    typeof header.hasInit === "boolean" &&
    typeof header.cloneable === "boolean" &&
    isCount(header.instanceBytes, Number.MAX_SAFE_INTEGER) &&
    Array.isArray(header.importModules) &&
    header.importModules.every((m) => typeof m === "string") &&
    Array.isArray(header.segments) &&
    header.segments.every((s) => isCount(s.length, 0xffffffff) && (s.offset === null || (isCount(s.offset, 0xffffffff) && s.offset + s.length <= header.initialPages * 65536)))
  );
}
