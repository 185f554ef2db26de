// A Memory: a page quota that pays for every object created in it. Destroying it destroys them all.
import {
  OP_MEMORY_INFO, OP_MEMORY_CREATE_MEMORY, OP_MEMORY_CREATE_RECEIVER, OP_MEMORY_CREATE_PROCESS,
  OP_MEMORY_CREATE_PAGE, OP_MEMORY_CREATE_CAPPAGE, OP_MEMORY_CREATE_REGION, OP_MEMORY_LIST, OP_MEMORY_DESTROY,
  OP_MEMORY_CREATE_IMAGE, OP_MEMORY_CREATE_IMAGE_BUILDER, OP_MEMORY_LOAD_ERROR,
} from "../abi";
import { E_INVALID_ARGUMENT } from "../errors";
import { msgBegin, msgAddWord, msgAddCap, msgInvoke, msgWord } from "../message";
import { operation, operation1, operation2, answeredCap } from "./operation";

/** MEMORY_INFO's answer, in pages. */
export class MemoryInfo {
  status: i32 = 0;
  quota: u32 = 0;
  used: u32 = 0;
  /** What can still be charged here, counting every ancestor's limit (may be less than quota - used). */
  available: u32 = 0;
}

/** MEMORY_LIST's answer: live objects of each kind created here, and pages used. */
export class MemoryList {
  status: i32 = 0;
  memories: u32 = 0;
  processes: u32 = 0;
  receivers: u32 = 0;
  pages: u32 = 0;
  cappages: u32 = 0;
  regions: u32 = 0;
  interrupts: u32 = 0;
  pagesUsed: u32 = 0;
}

/** Begins a message of `label`, `length` and `name` (UTF-8, at most 32 bytes, four to a word); false when the name is too long. */
function beginWithName(label: u32, length: u32, name: string): bool {
  const bytes = Uint8Array.wrap(String.UTF8.encode(name));
  if (bytes.length > 32) return false;
  msgBegin(label);
  msgAddWord(length);
  for (let i = 0; i < bytes.length; i += 4) {
    let w: u32 = 0;
    for (let b = 0; b < 4 && i + b < bytes.length; b++) w |= <u32>bytes[i + b] << (8 * b);
    msgAddWord(w);
  }
  return true;
}

export class Memory {
  constructor(readonly cap: i32) {}

  info(): MemoryInfo {
    const info = new MemoryInfo();
    info.status = operation(this.cap, OP_MEMORY_INFO);
    if (info.status >= 0) {
      info.quota = msgWord(0);
      info.used = msgWord(1);
      info.available = msgWord(2);
    }
    return info;
  }

  list(): MemoryList {
    const list = new MemoryList();
    list.status = operation(this.cap, OP_MEMORY_LIST);
    if (list.status >= 0) {
      list.memories = msgWord(0);
      list.processes = msgWord(1);
      list.receivers = msgWord(2);
      list.pages = msgWord(3);
      list.cappages = msgWord(4);
      list.regions = msgWord(5);
      list.interrupts = msgWord(6);
      list.pagesUsed = msgWord(7);
    }
    return list;
  }

  /** A child Memory with its own quota (all rights); its pages count here too. A cap or a status. */
  createMemory(quotaPages: u32): i32 {
    return answeredCap(operation1(this.cap, OP_MEMORY_CREATE_MEMORY, quotaPages));
  }

  /** A Receiver holding `capacity` messages (0: the default 16); the cap can receive and mint. */
  createReceiver(capacity: u32 = 0): i32 {
    return answeredCap(operation1(this.cap, OP_MEMORY_CREATE_RECEIVER, capacity));
  }

  /**
   * A process from `image` (an Image cap with IMAGE_SPAWN), `created`: give it capabilities, then
   * Process.start. `priority` < 0 means the caller's own; it may not be above (below) it.
   */
  createProcess(image: i32, priority: i32 = -1): i32 {
    msgBegin(OP_MEMORY_CREATE_PROCESS);
    if (priority >= 0) msgAddWord(<u32>priority);
    msgAddCap(<u32>image);
    return answeredCap(msgInvoke(this.cap));
  }

  /** A zeroed Page, all rights. */
  createPage(): i32 {
    return answeredCap(operation(this.cap, OP_MEMORY_CREATE_PAGE));
  }

  /** An empty Cappage (256 shared capability slots), all rights. */
  createCappage(): i32 {
    return answeredCap(operation(this.cap, OP_MEMORY_CREATE_CAPPAGE));
  }

  /** A zeroed Region of `pages` 4 KiB pages (flags: REGION_ZERO_ON_FREE); the cap is its owner. */
  createRegion(pages: u32, flags: u32 = 0): i32 {
    return answeredCap(operation2(this.cap, OP_MEMORY_CREATE_REGION, pages, flags));
  }

  /**
   * An Image (IMAGE_SPAWN) of the WebAssembly binary in the first `length` bytes of `region` (an
   * owner capability or a view; it stays with the caller), loaded and verified by the kernel's
   * loader while this process waits. `name` (at most 32 bytes) is what ps and messages call it.
   * E_INVALID_ARGUMENT when the loader refuses it, E_QUOTA when this Memory cannot pay for what the
   * host keeps of it (docs/MEMORY.md "What a process costs"): loadError() says why. A cap or a status.
   */
  createImage(region: i32, length: u32, name: string = ""): i32 {
    if (!beginWithName(OP_MEMORY_CREATE_IMAGE, length, name)) return E_INVALID_ARGUMENT;
    msgAddCap(<u32>region);
    return answeredCap(msgInvoke(this.cap));
  }

  /**
   * An Image builder (IMAGE_BUILDER_WRITE) for a binary of `length` bytes (at most 256 MiB), to be
   * handed over a Region at a time (ImageBuilder.append) and then loaded (ImageBuilder.load): for
   * binaries larger than a Region this process can hold. Charged a page per 4 KiB of `length`; its
   * load, twice that and 3 MiB; the Image, what the host keeps of it (docs/MEMORY.md). A cap or a status.
   */
  createImageBuilder(length: u32, name: string = ""): i32 {
    if (!beginWithName(OP_MEMORY_CREATE_IMAGE_BUILDER, length, name)) return E_INVALID_ARGUMENT;
    return answeredCap(msgInvoke(this.cap));
  }

  /** Why this process's last createImage (or ImageBuilder.load) was refused: the loader's reason, or for E_QUOTA what the Image would cost ("" if it was not), at most 248 bytes. Allocates. */
  loadError(): string {
    if (operation(this.cap, OP_MEMORY_LOAD_ERROR) < 0) return "";
    const length = msgWord(0);
    const bytes = new Uint8Array(<i32>length);
    for (let i: u32 = 0; i < length; i++) bytes[i] = <u8>(msgWord(1 + <i32>(i >> 2)) >> (8 * (i & 3)));
    return String.UTF8.decode(bytes.buffer);
  }

  /** Destroys it and everything created in it; its processes are killed (perhaps the caller). */
  destroy(): i32 {
    return operation(this.cap, OP_MEMORY_DESTROY);
  }
}
