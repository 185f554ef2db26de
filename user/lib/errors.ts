// Kernel status codes, mirroring the table in docs/ABI.md (checked by test/abi-doc.test.ts).

export const OK: i32 = 0;
export const E_INVALID_CAP: i32 = -1;
export const E_MISSING_RIGHT: i32 = -2;
export const E_WRONG_TYPE: i32 = -3;
export const E_QUEUE_FULL: i32 = -4;
export const E_QUOTA: i32 = -5;
export const E_PEER_DEAD: i32 = -6;
export const E_TIMEOUT: i32 = -7;
export const E_BAD_MESSAGE: i32 = -8;
export const E_BAD_ADDRESS: i32 = -9;
export const E_NO_PROCESS: i32 = -10;
export const E_INVALID_ARGUMENT: i32 = -11;
export const E_NOT_READY: i32 = -12;
export const E_CONTRACT: i32 = -13;

/** The table's name for `code`, or "status N" for a code it does not list (as the kernel does). */
export function errorName(code: i32): string {
  switch (code) {
    case OK: return "OK";
    case E_INVALID_CAP: return "E_INVALID_CAP";
    case E_MISSING_RIGHT: return "E_MISSING_RIGHT";
    case E_WRONG_TYPE: return "E_WRONG_TYPE";
    case E_QUEUE_FULL: return "E_QUEUE_FULL";
    case E_QUOTA: return "E_QUOTA";
    case E_PEER_DEAD: return "E_PEER_DEAD";
    case E_TIMEOUT: return "E_TIMEOUT";
    case E_BAD_MESSAGE: return "E_BAD_MESSAGE";
    case E_BAD_ADDRESS: return "E_BAD_ADDRESS";
    case E_NO_PROCESS: return "E_NO_PROCESS";
    case E_INVALID_ARGUMENT: return "E_INVALID_ARGUMENT";
    case E_NOT_READY: return "E_NOT_READY";
    case E_CONTRACT: return "E_CONTRACT";
  }
  return "status " + code.toString();
}
