import { printable } from "../printable.ts";
import { PAGE_SIZE } from "../constants.ts";
import { Status } from "../errors.ts";
import type { LoadedImage } from "../image.ts";
import { Capability } from "./capability.ts";
import type { ImageObject } from "./image-object.ts";
import { type Invocation, answer, argumentObject } from "./invocation.ts";
import { KernelObject } from "./kernel-object.ts";
import { hostChargeFor, imageHostPages, loadChargePages, quotaRefusal } from "./image-charge.ts";
import type { MemoryObject } from "./memory-object.ts";
import { ObjectKind, Rights } from "./object-abi.ts";
import type { ObjectKernel } from "./object-kernel.ts";
import type { RegionObject } from "./region.ts";

/** The largest binary a process may hand the kernel in one Region (larger ones go through an ImageBuilder). */
export const MAX_IMAGE_BYTES = 16 << 20;
/** The largest binary an ImageBuilder takes: the loader's own limit. */
export const MAX_BUILT_IMAGE_BYTES = 256 << 20;
/** A name for messages and `ps`: at most this many bytes, in the words after the length. */
export const MAX_IMAGE_NAME_BYTES = 32;
/** The words of a load error that fit one answer (its byte length first). */
const LOAD_ERROR_WORDS = 63;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * The pages of an Image being loaded, charged to its Memory from the request until the Image
 * takes them over: the binary sits in the host's heap while the loader works, and a check of
 * the room without a charge let any number of callers of one Memory have a binary each in the
 * loader at once, paid by nobody. Destroyed with its Memory, like anything the Memory holds.
 */
export class ImageLoadCharge extends KernelObject {
  readonly kind = ObjectKind.IMAGE_BUILDER;
  /** It lives exactly as long as the load: the load's end destroys it. */
  override get heldByHost(): boolean {
    return true;
  }
  protected teardown(): void {}
}

/**
 * MEMORY_CREATE_IMAGE: the binary in the Region given (owner or view; its first `length` bytes,
 * copied now, so the caller may reuse the Region at once) goes through the loader (see
 * `loadImageFor`), charged to `memory` from the request on (imageLoadEstimateBytes, then what the
 * image keeps). A Memory that cannot pay is E_QUOTA, with a message for MEMORY_LOAD_ERROR.
 */
export function createImage(k: ObjectKernel, inv: Invocation, memory: MemoryObject): number | Promise<number> {
  if (!k.canLoadImages) return Status.E_NOT_READY;
  const region = argumentObject<RegionObject>(inv, 0, ObjectKind.REGION, Rights.REGION_READ);
  if (typeof region === "number") return region;
  const length = inv.message.words[0] ?? 0;
  if (length === 0 || length > MAX_IMAGE_BYTES || length > region.pages * PAGE_SIZE) return Status.E_INVALID_ARGUMENT;
  const name = imageName(inv.message.words.subarray(1));
  if (name === null) return Status.E_INVALID_ARGUMENT;
  inv.caller.loadError = "";
  // Charged before the load, which is the expensive part and holds the binary; the Image's charge replaces it.
  const charge = new ImageLoadCharge();
  const pages = loadChargePages(length);
  if (!memory.adopt(charge, pages)) {
    inv.caller.loadError = quotaRefusal(name, "loading it", pages, memory);
    return Status.E_QUOTA;
  }
  return loadImageFor(k, inv, memory, region.read(length), name, charge);
}

/**
 * Runs the loader over `bytes` for the caller, which blocks meanwhile while every other process
 * runs, and answers the Image (`size, global address`; cap, IMAGE_SPAWN), charged to `memory`.
 * `charge` (adopted by `memory`, at least imageLoadEstimateBytes of the binary) pays for the load
 * while it runs and is destroyed when it ends, as the Image is charged in its place what the host
 * keeps of it (imageHostPages). A refusal is E_INVALID_ARGUMENT (the loader's) or E_QUOTA (the
 * Memory cannot pay for what the image keeps), and its message waits in the caller's process for
 * MEMORY_LOAD_ERROR.
 */
export function loadImageFor(k: ObjectKernel, inv: Invocation, memory: MemoryObject, bytes: Uint8Array, name: string, charge: KernelObject): Promise<number> {
  const caller = inv.caller;
  caller.loadError = "";
  const done = k.scheduler.block<number>(caller);
  k.loadImage(bytes, name, (outcome) => {
    // The same binary is not charged twice: the load's pages go back as the Image's are taken.
    charge.destroy();
    if (!caller.alive) return;
    if (outcome instanceof Error) {
      caller.loadError = outcome.message;
      k.scheduler.makeReady(caller, Status.E_INVALID_ARGUMENT);
      return;
    }
    k.scheduler.makeReady(caller, answerImage(k, inv, memory, outcome));
  });
  return done;
}

/** Makes the Image, charges it what the host keeps of it and answers it; E_QUOTA (and why) when the Memory or the frames cannot pay. */
function answerImage(k: ObjectKernel, inv: Invocation, memory: MemoryObject, image: LoadedImage): number {
  const pages = imageHostPages(image);
  let object: ImageObject;
  try {
    object = k.imageObject(image);
  } catch (error) {
    if (error instanceof RangeError) return Status.E_QUOTA;
    throw error;
  }
  // The host's copy is paid once by the Memory, however many of its Images hold it; the Image
  // itself is charged the frames of its pages as they are read.
  if (!memory.adopt(object, 0)) {
    object.destroy();
    return Status.E_QUOTA; // its Memory is gone
  }
  const charge = hostChargeFor(memory, image, pages);
  if (!charge) {
    object.destroy();
    inv.caller.loadError = quotaRefusal(image.name, "the loaded image (its binary, data segments and compiled code)", pages, memory);
    return Status.E_QUOTA;
  }
  charge.hold(object);
  return answer(inv, [image.bytes.length, object.globalAddress], [new Capability(object, Rights.IMAGE_SPAWN)]);
}

/** MEMORY_LOAD_ERROR: why the caller's last MEMORY_CREATE_IMAGE was refused ("" if it was not). */
export function loadErrorAnswer(inv: Invocation): number {
  const bytes = encoder.encode(inv.caller.loadError);
  const room = (LOAD_ERROR_WORDS - 1) * 4;
  // Cut at a character boundary, so that what the caller decodes is still UTF-8.
  let length = Math.min(bytes.length, room);
  while (length < bytes.length && length > 0 && (bytes[length]! & 0xc0) === 0x80) length--;
  const padded = new Uint8Array(Math.ceil(length / 4) * 4);
  padded.set(bytes.subarray(0, length));
  const words = [length, ...new Uint32Array(padded.buffer)];
  return answer(inv, words);
}

/**
 * The name in the words after the length: UTF-8 up to the first zero byte, its control characters
 * written as \xNN (`printable`: `ps`, a fault's line and a refusal print it on a terminal);
 * "image" if none; null if bad.
 */
export function imageName(words: Uint32Array): string | null {
  const bytes = new Uint8Array(words.slice(0, Math.ceil(MAX_IMAGE_NAME_BYTES / 4)).buffer);
  const end = bytes.indexOf(0);
  const raw = bytes.subarray(0, end < 0 ? bytes.length : end);
  if (words.length * 4 > MAX_IMAGE_NAME_BYTES && end < 0) return null;
  try {
    const name = printable(utf8.decode(raw));
    return name.length === 0 ? "image" : name;
  } catch {
    return null;
  }
}
