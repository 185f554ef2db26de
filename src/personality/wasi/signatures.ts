import type { ImportSignature } from "../../kernel/personality.ts";
import { sig, waiting } from "../../kernel/personality.ts";

/**
 * Every preview1 function's signature. Every call that touches the program's memory or talks to a
 * server is a blocking one (wrapped for JSPI): under demand paging it may have to wait for a page
 * (kernel/resident-call.ts), and IPC suspends the process. The few that do neither are not.
 */
const I = "i32" as const;
const L = "i64" as const;

export const wasiSignatures: Record<string, ImportSignature> = {
  args_get: sig([I, I], [I], true),
  args_sizes_get: sig([I, I], [I], true),
  environ_get: sig([I, I], [I], true),
  environ_sizes_get: sig([I, I], [I], true),
  clock_res_get: sig([I, I], [I], true),
  clock_time_get: sig([I, L, I], [I], true),
  fd_advise: sig([I, L, L, I], [I]),
  fd_allocate: sig([I, L, L], [I], true),
  fd_close: sig([I], [I], true),
  fd_datasync: sig([I], [I], true),
  fd_fdstat_get: sig([I, I], [I], true),
  fd_fdstat_set_flags: sig([I, I], [I]),
  fd_fdstat_set_rights: sig([I, L, L], [I]),
  fd_filestat_get: sig([I, I], [I], true),
  fd_filestat_set_size: sig([I, L], [I], true),
  fd_filestat_set_times: sig([I, L, L, I], [I], true),
  fd_pread: sig([I, I, I, L, I], [I], true),
  fd_prestat_get: sig([I, I], [I], true),
  fd_prestat_dir_name: sig([I, I, I], [I], true),
  fd_pwrite: sig([I, I, I, L, I], [I], true),
  fd_read: sig([I, I, I, I], [I], true),
  fd_readdir: sig([I, I, I, L, I], [I], true),
  fd_renumber: sig([I, I], [I], true),
  fd_seek: sig([I, L, I, I], [I], true),
  fd_sync: sig([I], [I], true),
  fd_tell: sig([I, I], [I], true),
  fd_write: sig([I, I, I, I], [I], true),
  path_create_directory: sig([I, I, I], [I], true),
  path_filestat_get: sig([I, I, I, I, I], [I], true),
  path_filestat_set_times: sig([I, I, I, I, L, L, I], [I], true),
  path_link: sig([I, I, I, I, I, I, I], [I], true),
  path_open: sig([I, I, I, I, I, L, L, I, I], [I], true),
  path_readlink: sig([I, I, I, I, I, I], [I], true),
  path_remove_directory: sig([I, I, I], [I], true),
  path_rename: sig([I, I, I, I, I, I], [I], true),
  path_symlink: sig([I, I, I, I, I], [I], true),
  path_unlink_file: sig([I, I, I], [I], true),
  poll_oneoff: waiting([I, I, I, I], [I]),
  proc_exit: waiting([I], []),
  proc_raise: sig([I], [I]),
  sched_yield: waiting([], [I]),
  random_get: sig([I, I], [I], true),
  sock_accept: sig([I, I, I], [I]),
  sock_recv: sig([I, I, I, I, I, I], [I]),
  sock_send: sig([I, I, I, I, I], [I]),
  sock_shutdown: sig([I, I], [I]),
};
