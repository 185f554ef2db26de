// The numbers of the capability ABI, mirroring src/kernel/caps/object-abi.ts one for one (kinds,
// rights, operation labels, kernel messages, flags, startup slots); docs/ABI.md explains each.
// Rights are per kind, so RIGHT_PAGE_READ and RIGHT_MEMORY_CREATE may share a value.

// Object kinds: what CAP_INFO answers as the kind.
export const KIND_MEMORY: u32 = 1;
export const KIND_PROCESS: u32 = 2;
export const KIND_RECEIVER: u32 = 3;
export const KIND_REPLY: u32 = 4;
export const KIND_PAGE: u32 = 5;
export const KIND_CAPPAGE: u32 = 6;
export const KIND_REGION: u32 = 7;
export const KIND_INTERRUPT: u32 = 8;
export const KIND_IMAGE: u32 = 9;
export const KIND_DEVICE: u32 = 10;
export const KIND_KERNEL: u32 = 11;
export const KIND_PAGER_REQUEST: u32 = 12;
export const KIND_IMAGE_BUILDER: u32 = 13;

// Rights, one table per kind; a capability's rights only ever shrink.
export const RIGHT_MEMORY_CREATE: u32 = 1;
export const RIGHT_MEMORY_DESTROY: u32 = 2;
export const RIGHT_MEMORY_INFO: u32 = 4;
export const RIGHT_PROCESS_CONTROL: u32 = 1;
export const RIGHT_PROCESS_KILL: u32 = 2;
export const RIGHT_PROCESS_INFO: u32 = 4;
export const RIGHT_PROCESS_PRIORITY: u32 = 8;
export const RIGHT_PROCESS_GIVE: u32 = 16;
export const RIGHT_PROCESS_LISTEN: u32 = 32;
export const RIGHT_PROCESS_MEMORY: u32 = 64;
export const RIGHT_PROCESS_DEBUG: u32 = 128;
export const RIGHT_RECEIVER_RECEIVE: u32 = 1;
export const RIGHT_RECEIVER_MINT: u32 = 2;
export const RIGHT_RECEIVER_SEND: u32 = 4;
export const RIGHT_RECEIVER_CALL: u32 = 8;
export const RIGHT_PAGE_READ: u32 = 1;
export const RIGHT_PAGE_WRITE: u32 = 2;
export const RIGHT_CAPPAGE_READ: u32 = 1;
export const RIGHT_CAPPAGE_WRITE: u32 = 2;
export const RIGHT_REGION_OWNER: u32 = 1;
export const RIGHT_REGION_READ: u32 = 2;
export const RIGHT_REGION_FILL: u32 = 4;
export const RIGHT_INTERRUPT_BIND: u32 = 1;
export const RIGHT_IMAGE_SPAWN: u32 = 1;
export const RIGHT_DEVICE_MAP: u32 = 1;
export const RIGHT_DEVICE_DMA: u32 = 2;
export const RIGHT_DEVICE_RESET: u32 = 4;
export const RIGHT_KERNEL_POLICY: u32 = 1;
export const RIGHT_KERNEL_INSPECT: u32 = 2;
export const RIGHT_PAGER_REQUEST_ANSWER: u32 = 1;
export const RIGHT_IMAGE_BUILDER_WRITE: u32 = 1;
export const ALL_RIGHTS: u32 = 0xffffffff;

// Operation labels: at or above KERNEL_LABEL_BASE a label is answered by the kernel.
export const KERNEL_LABEL_BASE: u32 = 0xffff0000;
export const OP_CAP_INFO: u32 = 0xffff0000;
export const OP_CAP_COPY: u32 = 0xffff0001;
export const OP_CAP_DROP: u32 = 0xffff0002;
export const OP_MEMORY_INFO: u32 = 0xffff0100;
export const OP_MEMORY_CREATE_MEMORY: u32 = 0xffff0101;
export const OP_MEMORY_CREATE_RECEIVER: u32 = 0xffff0102;
export const OP_MEMORY_CREATE_PROCESS: u32 = 0xffff0103;
export const OP_MEMORY_CREATE_PAGE: u32 = 0xffff0104;
export const OP_MEMORY_CREATE_CAPPAGE: u32 = 0xffff0105;
export const OP_MEMORY_CREATE_REGION: u32 = 0xffff0106;
export const OP_MEMORY_LIST: u32 = 0xffff0107;
export const OP_MEMORY_DESTROY: u32 = 0xffff0108;
export const OP_MEMORY_CREATE_IMAGE: u32 = 0xffff0120;
export const OP_MEMORY_LOAD_ERROR: u32 = 0xffff0121;
export const OP_MEMORY_CREATE_IMAGE_BUILDER: u32 = 0xffff0122;
export const OP_PROCESS_START: u32 = 0xffff0200;
export const OP_PROCESS_SUSPEND: u32 = 0xffff0201;
export const OP_PROCESS_RESUME: u32 = 0xffff0202;
export const OP_PROCESS_KILL: u32 = 0xffff0203;
export const OP_PROCESS_STATE: u32 = 0xffff0204;
export const OP_PROCESS_SET_PRIORITY: u32 = 0xffff0205;
export const OP_PROCESS_GIVE: u32 = 0xffff0206;
export const OP_PROCESS_MONITOR: u32 = 0xffff0207;
export const OP_PROCESS_WAIT: u32 = 0xffff0208;
export const OP_PROCESS_HOLDS: u32 = 0xffff0209;
export const OP_PROCESS_LISTEN: u32 = 0xffff020a;
export const OP_PROCESS_CONTRACT_REFUSAL: u32 = 0xffff020b;
export const OP_PROCESS_SET_ARGS: u32 = 0xffff0220;
export const OP_PROCESS_PROTECT: u32 = 0xffff0240;
export const OP_PROCESS_SET_FAULT_HANDLER: u32 = 0xffff0241;
export const OP_PROCESS_COPY_PAGES: u32 = 0xffff0242;
export const OP_PROCESS_CLONE: u32 = 0xffff0243;
export const OP_PROCESS_SERVE: u32 = 0xffff0244;
export const OP_PROCESS_DISCARD: u32 = 0xffff0245;
export const OP_PROCESS_DEBUG_ATTACH: u32 = 0xffff0260;
export const OP_PROCESS_DEBUG_DETACH: u32 = 0xffff0261;
export const OP_PROCESS_DEBUG_STOP: u32 = 0xffff0262;
export const OP_PROCESS_DEBUG_CONTINUE: u32 = 0xffff0263;
export const OP_PROCESS_DEBUG_STEP: u32 = 0xffff0264;
export const OP_PROCESS_DEBUG_BREAK: u32 = 0xffff0265;
export const OP_PROCESS_DEBUG_WATCH: u32 = 0xffff0266;
export const OP_PROCESS_DEBUG_CLEAR: u32 = 0xffff0267;
export const OP_PROCESS_DEBUG_READ: u32 = 0xffff0268;
export const OP_PROCESS_DEBUG_WRITE: u32 = 0xffff0269;
export const OP_PROCESS_DEBUG_GLOBALS: u32 = 0xffff026a;
export const OP_PROCESS_DEBUG_SET_GLOBAL: u32 = 0xffff026b;
export const OP_PROCESS_DEBUG_INFO: u32 = 0xffff026c;
export const OP_PROCESS_DEBUG_BACKTRACE: u32 = 0xffff026d;
export const OP_PROCESS_DEBUG_FUNCTION: u32 = 0xffff026e;
export const OP_PROCESS_DEBUG_FAULT: u32 = 0xffff026f;
export const OP_PROCESS_DEBUG_GLOBAL_NAME: u32 = 0xffff0270;
export const OP_RECEIVER_RECEIVE: u32 = 0xffff0300;
export const OP_RECEIVER_MINT: u32 = 0xffff0301;
export const OP_RECEIVER_INFO: u32 = 0xffff0302;
export const OP_RECEIVER_SET_CONTRACT: u32 = 0xffff0303;
export const OP_PAGE_MAP: u32 = 0xffff0400;
export const OP_PAGE_UNMAP: u32 = 0xffff0401;
export const OP_PAGE_MAP_GLOBAL: u32 = 0xffff0402;
export const OP_PAGE_COPY: u32 = 0xffff0403;
export const OP_PAGE_MOVE: u32 = 0xffff0404;
export const OP_PAGE_SET_FLAGS: u32 = 0xffff0405;
export const OP_PAGE_INFO: u32 = 0xffff0406;
export const OP_CAPPAGE_PUT: u32 = 0xffff0500;
export const OP_CAPPAGE_GET: u32 = 0xffff0501;
export const OP_CAPPAGE_CLEAR: u32 = 0xffff0502;
export const OP_CAPPAGE_NARROW: u32 = 0xffff0503;
export const OP_REGION_INFO: u32 = 0xffff0600;
export const OP_REGION_VIEW: u32 = 0xffff0601;
export const OP_REGION_FREE: u32 = 0xffff0602;
export const OP_REGION_FILLER: u32 = 0xffff0603;
export const OP_REGION_FILL: u32 = 0xffff0604;
export const OP_REGION_REVOKE_FILLERS: u32 = 0xffff0605;
export const OP_REGION_FILL_GATHER: u32 = 0xffff0606;
export const OP_REGION_CLONE: u32 = 0xffff0640;
export const OP_INTERRUPT_BIND: u32 = 0xffff0700;
export const OP_INTERRUPT_ACK: u32 = 0xffff0701;
export const OP_IMAGE_INFO: u32 = 0xffff0800;
export const OP_IMAGE_MAP: u32 = 0xffff0840;
export const OP_IMAGE_UNMAP: u32 = 0xffff0841;
export const OP_DEVICE_INFO: u32 = 0xffff0900;
export const OP_DEVICE_MAP: u32 = 0xffff0901;
export const OP_DEVICE_DMA: u32 = 0xffff0902;
export const OP_DEVICE_RESET: u32 = 0xffff0903;
export const OP_DEVICE_GRANT: u32 = 0xffff0904;
export const OP_KERNEL_INFO: u32 = 0xffff0a00;
export const OP_KERNEL_SET_SLICE: u32 = 0xffff0a01;
export const OP_KERNEL_PROCESS: u32 = 0xffff0a10;
export const OP_KERNEL_CAPS: u32 = 0xffff0a11;
export const OP_KERNEL_FRAMES: u32 = 0xffff0a12;
export const OP_KERNEL_MEMORY: u32 = 0xffff0a13;
export const OP_KERNEL_UPTIME: u32 = 0xffff0a14;
export const OP_KERNEL_SET_PAGING: u32 = 0xffff0a40;
export const OP_KERNEL_PAGING_INFO: u32 = 0xffff0a41;
export const OP_KERNEL_SET_PIN: u32 = 0xffff0a42;
export const OP_KERNEL_SET_PAGER: u32 = 0xffff0a43;
export const OP_REPLY_AT: u32 = 0xffff0b00;
export const OP_PAGER_DONE: u32 = 0xffff0c00;
export const OP_IMAGE_BUILDER_APPEND: u32 = 0xffff0d00;
export const OP_IMAGE_BUILDER_INFO: u32 = 0xffff0d01;
export const OP_IMAGE_BUILDER_LOAD: u32 = 0xffff0d40;
// Eviction policies (KERNEL_SET_PAGING).
export const PAGING_CLOCK: u32 = 0;
export const PAGING_AGING: u32 = 1;
// Pin levels (KERNEL_SET_PIN).
export const PIN_PAGEABLE: u32 = 0;
export const PIN_RELUCTANT: u32 = 1;
export const PIN_PINNED: u32 = 2;

// Labels of messages only the kernel sends (through a send capability handed to it).
export const MSG_PROCESS_ENDED: u32 = 0xfffff001;
export const MSG_INTERRUPT: u32 = 0xfffff002;
export const MSG_PAGE_OUT: u32 = 0xfffff003;
export const MSG_PAGE_IN: u32 = 0xfffff004;
/** The most pages one MSG_PAGE_OUT or MSG_PAGE_IN carries (three words a page); KERNEL_SET_PAGER's batch. */
export const PAGER_BATCH_MAX: u32 = 21;
export const MSG_DEBUG_STOPPED: u32 = 0xfffff005;

// Page flags (PAGE_SET_FLAGS, PAGE_INFO) and Region flags (MEMORY_CREATE_REGION).
export const PAGE_READ_ONLY: u32 = 1;
export const PAGE_SHARED: u32 = 2;
export const REGION_ZERO_ON_FREE: u32 = 1;
/** In REGION_INFO's flags only: the Region's owner freed it (a view kept of it serves nothing now). */
export const REGION_FREED: u32 = 2;
// Page rights (PROCESS_PROTECT).
export const PAGE_RIGHTS_NONE: u32 = 0;
export const PAGE_RIGHTS_READ: u32 = 1;
export const PAGE_RIGHTS_READ_WRITE: u32 = 3;

// In a message's capability list, this bit moves the capability instead of copying it.
export const CAP_MOVE: u32 = 0x80000000;
// In header word 3 (recv) of a reply-and-receive: header word 4 holds the receive's timeout in µs.
export const RECV_TIMEOUT: u32 = 0x80000000;

// Startup slots: 0 is never a capability, 1 is the process itself, given ones follow.
export const SLOT_NULL: i32 = 0;
export const SLOT_SELF: i32 = 1;
export const SLOT_FIRST_GIVEN: i32 = 2;
export const SELF_RIGHTS: u32 = RIGHT_PROCESS_INFO | RIGHT_PROCESS_LISTEN | RIGHT_PROCESS_MEMORY;

// Sizes.
export const CAP_TABLE_SLOTS: i32 = 1024;
export const CAPPAGE_SLOTS: i32 = 256;
export const DEFAULT_RECEIVER_CAPACITY: u32 = 16;
export const MAX_RECEIVER_CAPACITY: u32 = 1024;

// A timeout meaning "wait for ever" (both timeout words all ones).
export const FOREVER: u64 = 0xffffffffffffffff;
