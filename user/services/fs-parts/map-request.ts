// FS_MAP (docs/FS.md "Mapped reads"): a view of the file's map (file-maps.ts), made at the first
// request on the inode, held by this handle until it closes or lets go of it (FS_MAP_RELEASE).
import { E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_QUOTA } from "../../lib";
import { FS_MAP_RELEASE } from "../../lib/fs-protocol";
import { KIND_FILE } from "./format";
import { Context } from "./context";

export function mapRequest(c: Context): i32 {
  if (c.request.capCount > 0) return E_BAD_MESSAGE;
  if (c.request.word(0) == FS_MAP_RELEASE) {
    // A client keeps few maps at once (user/lib/fs-map.ts) and lets go of one to map another.
    // What a freed map's kept views leave charged counts against this session, as at its CLOSE.
    c.viewed.closing = c.handles.session(c.index);
    c.volume.maps.closed(c.index);
    c.viewed.closing = -1;
    return 0;
  }
  // A direct handle's pages stay out of the cache (the pager's swap file): nothing to map.
  if (c.handles.kind(c.index) != KIND_FILE || c.handles.direct(c.index)) return E_INVALID_ARGUMENT;
  // Views it kept of maps freed since hold its share of the server's quota (viewed-regions.ts).
  if (c.viewed.refuses(c.handles.session(c.index))) return E_QUOTA;
  const maps = c.volume.maps;
  const view = maps.map(c.index, c.ino, c.at, c.volume);
  if (view < 0) return view;
  c.reply.addCap(view);
  c.reply.add(maps.lastPages);
  c.reply.add(<u32>maps.lastAddress); // (the same in every process: a client need not ask REGION_INFO)
  return 0;
}
