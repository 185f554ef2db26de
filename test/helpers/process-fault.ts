import { ProcessFault } from "../../src/kernel/fault.ts";

/** The ProcessFault `action` throws; fails the test when it throws something else or nothing. */
export function faultOf(action: () => unknown): ProcessFault {
  try {
    action();
  } catch (error) {
    if (error instanceof ProcessFault) return error;
    throw error;
  }
  throw new Error("expected a fault");
}
