import { RequestStatus } from "./request-status.ts";

export const MAX_SHARE_PATH = 4096;

/**
 * A share path as a driver writes it (UTF-8, names separated by "/", relative to the share's
 * root; "", "." and empty names are the folder itself) as the list of names a backend gets, or
 * the status that refuses it. ".." is refused outright rather than resolved: the share has no
 * way up, so no path can name anything outside it by spelling.
 */
export function parseSharePath(bytes: Uint8Array): string[] | number {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return RequestStatus.E_PATH;
  }
  if (text.includes("\0") || text.includes("\\")) return RequestStatus.E_PATH;
  const names = text.split("/").filter((name) => name !== "" && name !== ".");
  if (names.includes("..")) return RequestStatus.E_DENIED;
  return names;
}
