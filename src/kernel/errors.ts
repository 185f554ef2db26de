/**
 * Status codes returned by every kernel call. This table is the one source: docs/ABI.md and
 * user/lib/errors.ts are checked against it by test/abi-doc.test.ts.
 */
export const Status = {
  OK: 0,
  E_INVALID_CAP: -1,
  E_MISSING_RIGHT: -2,
  E_WRONG_TYPE: -3,
  E_QUEUE_FULL: -4,
  E_QUOTA: -5,
  E_PEER_DEAD: -6,
  E_TIMEOUT: -7,
  E_BAD_MESSAGE: -8,
  E_BAD_ADDRESS: -9,
  E_NO_PROCESS: -10,
  E_INVALID_ARGUMENT: -11,
  E_NOT_READY: -12,
  E_CONTRACT: -13,
} as const;

export type StatusName = keyof typeof Status;
export type StatusCode = (typeof Status)[StatusName];

const names = new Map<number, StatusName>(
  Object.entries(Status).map(([name, code]) => [code, name as StatusName]),
);

export function statusName(code: number): string {
  return names.get(code) ?? `status ${code}`;
}

/** A kernel call that fails raises this; the call boundary turns it into its code. */
export class KernelError extends Error {
  readonly code: StatusCode;
  constructor(code: StatusCode, message: string) {
    super(message);
    this.code = code;
  }
}
