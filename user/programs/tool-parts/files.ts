// What the file tools (ls, cat, cp, mv, rm, mkdir) share: the working directory and the roots the
// shell gave them (slots 8, 9 and 10, docs/PROGRAMS.md) — a path that starts with /host is looked
// up, without that prefix, from the host share's root (slot 10, docs/HOSTFS.md), any other that
// starts with / from the root, any other from the working directory — a file system client whose buffer is
// paid from the job's Memory (slot 7), and failing with the tool's name and what went wrong.
import { capKind, eprint, exit, statusText, KIND_RECEIVER, SLOT_JOB_MEMORY } from "../../lib";
import { FsClient } from "../../lib/fs-client";

/** The working directory and the root: directory capabilities of the file system server's. */
export const SLOT_CWD: i32 = 8;
export const SLOT_ROOT: i32 = 9;
/** The host share's root (read-only), when the machine has one: what /host names. */
export const SLOT_HOST: i32 = 10;
/** The client's buffer: 64 KiB, so a copy moves 64 KiB per call. */
export const BUFFER_PAGES: u32 = 16;

/** Says `what` failed, and why (in words: statusText), on the error stream. */
export function complain(tool: string, what: string, status: i32): void {
  eprint(tool + ": " + what + ": " + statusText(status));
}

/** Complains and exits 1. */
export function fail(tool: string, what: string, status: i32): void {
  complain(tool, what, status);
  exit(1);
}

/** The working directory's slot, or exits saying there is none (not started by the shell). */
export function workingDirectory(tool: string): i32 {
  if (capKind(SLOT_CWD) != <i32>KIND_RECEIVER) {
    eprint(tool + ": no working directory (slot " + SLOT_CWD.toString() + "): run me from the shell, on a system with a file system");
    exit(1);
  }
  return SLOT_CWD;
}

/** Whether `path` names something in the host share (/host, or below it) and there is one. */
export function isHostPath(path: string): bool {
  return (path == "/host" || path.startsWith("/host/")) && capKind(SLOT_HOST) == <i32>KIND_RECEIVER;
}

/** The path to look up from base(path): without /host for the host share. */
export function within(path: string): string {
  if (!isHostPath(path)) return path;
  return path.length == 5 ? "/" : path.slice(5);
}

/** The directory `path` is looked up from: the host share's root for /host..., the root for another absolute path (when given one), else the working directory. */
export function base(path: string): i32 {
  if (isHostPath(path)) return SLOT_HOST;
  return path.startsWith("/") && capKind(SLOT_ROOT) == <i32>KIND_RECEIVER ? SLOT_ROOT : SLOT_CWD;
}

/**
 * The tool's file system client. It lends each of the slots it is given Regions of its own (user/lib/fs-client.ts),
 * so that no server sees what passes to or from another (`cat /secret /host/x`): the working
 * directory may be the host share's (after `cd /host`), so it is not taken for the root's server.
 */
export function client(): FsClient {
  return new FsClient(SLOT_JOB_MEMORY, BUFFER_PAGES);
}
