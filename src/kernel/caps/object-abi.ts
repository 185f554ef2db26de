/**
 * The numbers of the capability ABI: object kinds, rights, operation labels, kernel message
 * labels and startup slots. docs/ABI.md and user/lib/abi.ts are checked against these by
 * test/abi-doc.test.ts, so this file is the one source.
 */

/** Kinds of kernel object a capability can name (`CAP_INFO` answers one). */
export const ObjectKind = {
  MEMORY: 1,
  PROCESS: 2,
  RECEIVER: 3,
  REPLY: 4,
  PAGE: 5,
  CAPPAGE: 6,
  REGION: 7,
  INTERRUPT: 8,
  IMAGE: 9,
  DEVICE: 10,
  KERNEL: 11,
  PAGER_REQUEST: 12,
  IMAGE_BUILDER: 13,
} as const;
export type ObjectKindCode = (typeof ObjectKind)[keyof typeof ObjectKind];

/** Rights, one table per kind; a capability's rights only ever shrink. */
export const Rights = {
  MEMORY_CREATE: 1,
  MEMORY_DESTROY: 2,
  MEMORY_INFO: 4,
  PROCESS_CONTROL: 1,
  PROCESS_KILL: 2,
  PROCESS_INFO: 4,
  PROCESS_PRIORITY: 8,
  PROCESS_GIVE: 16,
  PROCESS_LISTEN: 32,
  PROCESS_MEMORY: 64,
  PROCESS_DEBUG: 128,
  RECEIVER_RECEIVE: 1,
  RECEIVER_MINT: 2,
  RECEIVER_SEND: 4,
  RECEIVER_CALL: 8,
  PAGE_READ: 1,
  PAGE_WRITE: 2,
  CAPPAGE_READ: 1,
  CAPPAGE_WRITE: 2,
  REGION_OWNER: 1,
  REGION_READ: 2,
  REGION_FILL: 4,
  INTERRUPT_BIND: 1,
  IMAGE_SPAWN: 1,
  DEVICE_MAP: 1,
  DEVICE_DMA: 2,
  DEVICE_RESET: 4,
  KERNEL_POLICY: 1,
  KERNEL_INSPECT: 2,
  PAGER_REQUEST_ANSWER: 1,
  IMAGE_BUILDER_WRITE: 1,
} as const;

export const ALL_RIGHTS = 0xffff_ffff;

/** Labels at or above this are operations the kernel answers; below it a label is the user's. */
export const KERNEL_LABEL_BASE = 0xffff_0000;

export const Op = {
  CAP_INFO: 0xffff_0000,
  CAP_COPY: 0xffff_0001,
  CAP_DROP: 0xffff_0002,
  MEMORY_INFO: 0xffff_0100,
  MEMORY_CREATE_MEMORY: 0xffff_0101,
  MEMORY_CREATE_RECEIVER: 0xffff_0102,
  MEMORY_CREATE_PROCESS: 0xffff_0103,
  MEMORY_CREATE_PAGE: 0xffff_0104,
  MEMORY_CREATE_CAPPAGE: 0xffff_0105,
  MEMORY_CREATE_REGION: 0xffff_0106,
  MEMORY_LIST: 0xffff_0107,
  MEMORY_DESTROY: 0xffff_0108,
  MEMORY_CREATE_IMAGE: 0xffff_0120,
  MEMORY_LOAD_ERROR: 0xffff_0121,
  MEMORY_CREATE_IMAGE_BUILDER: 0xffff_0122,
  PROCESS_START: 0xffff_0200,
  PROCESS_SUSPEND: 0xffff_0201,
  PROCESS_RESUME: 0xffff_0202,
  PROCESS_KILL: 0xffff_0203,
  PROCESS_STATE: 0xffff_0204,
  PROCESS_SET_PRIORITY: 0xffff_0205,
  PROCESS_GIVE: 0xffff_0206,
  PROCESS_MONITOR: 0xffff_0207,
  PROCESS_WAIT: 0xffff_0208,
  PROCESS_HOLDS: 0xffff_0209,
  PROCESS_LISTEN: 0xffff_020a,
  PROCESS_CONTRACT_REFUSAL: 0xffff_020b,
  PROCESS_SET_ARGS: 0xffff_0220,
  PROCESS_PROTECT: 0xffff_0240,
  PROCESS_SET_FAULT_HANDLER: 0xffff_0241,
  PROCESS_COPY_PAGES: 0xffff_0242,
  PROCESS_CLONE: 0xffff_0243,
  PROCESS_SERVE: 0xffff_0244,
  PROCESS_DISCARD: 0xffff_0245,
  PROCESS_DEBUG_ATTACH: 0xffff_0260,
  PROCESS_DEBUG_DETACH: 0xffff_0261,
  PROCESS_DEBUG_STOP: 0xffff_0262,
  PROCESS_DEBUG_CONTINUE: 0xffff_0263,
  PROCESS_DEBUG_STEP: 0xffff_0264,
  PROCESS_DEBUG_BREAK: 0xffff_0265,
  PROCESS_DEBUG_WATCH: 0xffff_0266,
  PROCESS_DEBUG_CLEAR: 0xffff_0267,
  PROCESS_DEBUG_READ: 0xffff_0268,
  PROCESS_DEBUG_WRITE: 0xffff_0269,
  PROCESS_DEBUG_GLOBALS: 0xffff_026a,
  PROCESS_DEBUG_SET_GLOBAL: 0xffff_026b,
  PROCESS_DEBUG_INFO: 0xffff_026c,
  PROCESS_DEBUG_BACKTRACE: 0xffff_026d,
  PROCESS_DEBUG_FUNCTION: 0xffff_026e,
  PROCESS_DEBUG_FAULT: 0xffff_026f,
  PROCESS_DEBUG_GLOBAL_NAME: 0xffff_0270,
  RECEIVER_RECEIVE: 0xffff_0300,
  RECEIVER_MINT: 0xffff_0301,
  RECEIVER_INFO: 0xffff_0302,
  RECEIVER_SET_CONTRACT: 0xffff_0303,
  PAGE_MAP: 0xffff_0400,
  PAGE_UNMAP: 0xffff_0401,
  PAGE_MAP_GLOBAL: 0xffff_0402,
  PAGE_COPY: 0xffff_0403,
  PAGE_MOVE: 0xffff_0404,
  PAGE_SET_FLAGS: 0xffff_0405,
  PAGE_INFO: 0xffff_0406,
  CAPPAGE_PUT: 0xffff_0500,
  CAPPAGE_GET: 0xffff_0501,
  CAPPAGE_CLEAR: 0xffff_0502,
  CAPPAGE_NARROW: 0xffff_0503,
  REGION_INFO: 0xffff_0600,
  REGION_VIEW: 0xffff_0601,
  REGION_FREE: 0xffff_0602,
  REGION_FILLER: 0xffff_0603,
  REGION_FILL: 0xffff_0604,
  REGION_REVOKE_FILLERS: 0xffff_0605,
  REGION_FILL_GATHER: 0xffff_0606,
  REGION_CLONE: 0xffff_0640,
  INTERRUPT_BIND: 0xffff_0700,
  INTERRUPT_ACK: 0xffff_0701,
  IMAGE_INFO: 0xffff_0800,
  IMAGE_MAP: 0xffff_0840,
  IMAGE_UNMAP: 0xffff_0841,
  DEVICE_INFO: 0xffff_0900,
  DEVICE_MAP: 0xffff_0901,
  DEVICE_DMA: 0xffff_0902,
  DEVICE_RESET: 0xffff_0903,
  DEVICE_GRANT: 0xffff_0904,
  KERNEL_INFO: 0xffff_0a00,
  KERNEL_SET_SLICE: 0xffff_0a01,
  KERNEL_PROCESS: 0xffff_0a10,
  KERNEL_CAPS: 0xffff_0a11,
  KERNEL_FRAMES: 0xffff_0a12,
  KERNEL_MEMORY: 0xffff_0a13,
  KERNEL_UPTIME: 0xffff_0a14,
  KERNEL_SET_PAGING: 0xffff_0a40,
  KERNEL_PAGING_INFO: 0xffff_0a41,
  KERNEL_SET_PIN: 0xffff_0a42,
  KERNEL_SET_PAGER: 0xffff_0a43,
  REPLY_AT: 0xffff_0b00,
  PAGER_DONE: 0xffff_0c00,
  IMAGE_BUILDER_APPEND: 0xffff_0d00,
  IMAGE_BUILDER_INFO: 0xffff_0d01,
  IMAGE_BUILDER_LOAD: 0xffff_0d40,
} as const;

/** Labels of messages only the kernel sends (no process can send a label this high). */
export const KernelMessage = {
  PROCESS_ENDED: 0xffff_f001,
  INTERRUPT: 0xffff_f002,
  PAGE_OUT: 0xffff_f003,
  PAGE_IN: 0xffff_f004,
  DEBUG_STOPPED: 0xffff_f005,
} as const;

/** Flags of a Page (`PAGE_SET_FLAGS`, `PAGE_INFO`). */
export const PageFlag = { READ_ONLY: 1, SHARED: 2 } as const;
/** The rights `PROCESS_PROTECT` gives private pages: a page is unreadable, read-only or read-write. */
export const PageRights = { NONE: 0, READ: 1, READ_WRITE: 3 } as const;
/** Why a debugged process stopped (`DEBUG_STOPPED`, `PROCESS_DEBUG_INFO`; docs/DEBUGGING.md). */
export const DebugStop = { REQUEST: 1, BREAKPOINT: 2, WATCHPOINT: 3, STEP: 4, FAULT: 5 } as const;
/** Where a breakpoint stops in its function (`PROCESS_DEBUG_BREAK`). */
export const BreakAt = { ENTRY: 0, LOOPS: 1, OFFSET: 2 } as const;
/** What a watchpoint stops on (`PROCESS_DEBUG_WATCH`). */
export const WatchOn = { WRITE: 1, ACCESS: 2 } as const;
/** `PROCESS_DEBUG_ATTACH`'s flags: what the debugger's end does to its target (default: detach, it runs on). */
export const DebugAttachFlag = { KILL_ON_END: 1 } as const;
/** `PROCESS_DEBUG_READ` and `_WRITE` flags: the target's page rights are set aside (its private pages only). */
export const DebugAccessFlag = { OVERRIDE_RIGHTS: 1 } as const;
/**
 * Flags of a Region: ZERO_ON_FREE is given at `MEMORY_CREATE_REGION`; FREED is only answered, by
 * `REGION_INFO`: the owner's access has ended (a view held is of nothing its owner uses any more).
 */
export const RegionFlag = { ZERO_ON_FREE: 1, FREED: 2 } as const;

/** In a message's capability list, this bit moves the capability instead of copying it. */
export const CAP_MOVE = 0x8000_0000;
/** In header word 3 (`recv`) of a reply-and-receive: header word 4 holds the receive's timeout in µs. */
export const RECV_TIMEOUT = 0x8000_0000;

/** Startup slots: 0 is never a capability; 1 is the process itself; given ones follow. */
export const SLOT_NULL = 0;
export const SLOT_SELF = 1;
export const SLOT_FIRST_GIVEN = 2;
export const SELF_RIGHTS = Rights.PROCESS_INFO | Rights.PROCESS_LISTEN | Rights.PROCESS_MEMORY;

/** Slots in one process's capability table (slot 0 included). */
export const CAP_TABLE_SLOTS = 1024;
/** Slots in a Cappage. */
export const CAPPAGE_SLOTS = 256;
/** Messages a Receiver holds when its creator asks for 0. */
export const DEFAULT_RECEIVER_CAPACITY = 16;
export const MAX_RECEIVER_CAPACITY = 1024;

/** A timeout word pair meaning "wait for ever". */
export const FOREVER = 0xffff_ffff_ffff_ffffn;
