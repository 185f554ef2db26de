/* WASI preview1's functions as the raw imports they are (wasi_snapshot_preview1.witx), so a
 * check passes exactly the pointers and lengths it means: a path with a NUL in it, a buffer
 * past the end of memory, an iovec count in the millions. Types are those of the ABI: i32 for
 * every pointer, length, fd and flag set, i64 for offsets, rights, times and cookies. */
#ifndef RAW_H
#define RAW_H
#include <stdint.h>

#define WASI(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

WASI(args_get) int32_t raw_args_get(int32_t argv, int32_t buf);
WASI(args_sizes_get) int32_t raw_args_sizes_get(int32_t count, int32_t size);
WASI(environ_get) int32_t raw_environ_get(int32_t environ, int32_t buf);
WASI(environ_sizes_get) int32_t raw_environ_sizes_get(int32_t count, int32_t size);
WASI(clock_res_get) int32_t raw_clock_res_get(int32_t id, int32_t out);
WASI(clock_time_get) int32_t raw_clock_time_get(int32_t id, int64_t precision, int32_t out);
WASI(fd_advise) int32_t raw_fd_advise(int32_t fd, int64_t offset, int64_t len, int32_t advice);
WASI(fd_allocate) int32_t raw_fd_allocate(int32_t fd, int64_t offset, int64_t len);
WASI(fd_close) int32_t raw_fd_close(int32_t fd);
WASI(fd_datasync) int32_t raw_fd_datasync(int32_t fd);
WASI(fd_fdstat_get) int32_t raw_fd_fdstat_get(int32_t fd, int32_t out);
WASI(fd_fdstat_set_flags) int32_t raw_fd_fdstat_set_flags(int32_t fd, int32_t flags);
WASI(fd_fdstat_set_rights) int32_t raw_fd_fdstat_set_rights(int32_t fd, int64_t base, int64_t inheriting);
WASI(fd_filestat_get) int32_t raw_fd_filestat_get(int32_t fd, int32_t out);
WASI(fd_filestat_set_size) int32_t raw_fd_filestat_set_size(int32_t fd, int64_t size);
WASI(fd_filestat_set_times) int32_t raw_fd_filestat_set_times(int32_t fd, int64_t atim, int64_t mtim, int32_t flags);
WASI(fd_pread) int32_t raw_fd_pread(int32_t fd, int32_t iovs, int32_t count, int64_t offset, int32_t out);
WASI(fd_prestat_get) int32_t raw_fd_prestat_get(int32_t fd, int32_t out);
WASI(fd_prestat_dir_name) int32_t raw_fd_prestat_dir_name(int32_t fd, int32_t buf, int32_t len);
WASI(fd_pwrite) int32_t raw_fd_pwrite(int32_t fd, int32_t iovs, int32_t count, int64_t offset, int32_t out);
WASI(fd_read) int32_t raw_fd_read(int32_t fd, int32_t iovs, int32_t count, int32_t out);
WASI(fd_readdir) int32_t raw_fd_readdir(int32_t fd, int32_t buf, int32_t len, int64_t cookie, int32_t out);
WASI(fd_renumber) int32_t raw_fd_renumber(int32_t from, int32_t to);
WASI(fd_seek) int32_t raw_fd_seek(int32_t fd, int64_t offset, int32_t whence, int32_t out);
WASI(fd_sync) int32_t raw_fd_sync(int32_t fd);
WASI(fd_tell) int32_t raw_fd_tell(int32_t fd, int32_t out);
WASI(fd_write) int32_t raw_fd_write(int32_t fd, int32_t iovs, int32_t count, int32_t out);
WASI(path_create_directory) int32_t raw_path_create_directory(int32_t fd, int32_t path, int32_t len);
WASI(path_filestat_get) int32_t raw_path_filestat_get(int32_t fd, int32_t flags, int32_t path, int32_t len, int32_t out);
WASI(path_filestat_set_times) int32_t raw_path_filestat_set_times(int32_t fd, int32_t flags, int32_t path, int32_t len, int64_t atim, int64_t mtim, int32_t fst);
WASI(path_link) int32_t raw_path_link(int32_t fd, int32_t flags, int32_t path, int32_t len, int32_t newfd, int32_t newpath, int32_t newlen);
WASI(path_open) int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t len, int32_t oflags, int64_t base, int64_t inheriting, int32_t fdflags, int32_t out);
WASI(path_readlink) int32_t raw_path_readlink(int32_t fd, int32_t path, int32_t len, int32_t buf, int32_t buflen, int32_t out);
WASI(path_remove_directory) int32_t raw_path_remove_directory(int32_t fd, int32_t path, int32_t len);
WASI(path_rename) int32_t raw_path_rename(int32_t fd, int32_t path, int32_t len, int32_t newfd, int32_t newpath, int32_t newlen);
WASI(path_symlink) int32_t raw_path_symlink(int32_t target, int32_t tlen, int32_t fd, int32_t path, int32_t len);
WASI(path_unlink_file) int32_t raw_path_unlink_file(int32_t fd, int32_t path, int32_t len);
WASI(poll_oneoff) int32_t raw_poll_oneoff(int32_t in, int32_t out, int32_t count, int32_t nevents);
WASI(proc_raise) int32_t raw_proc_raise(int32_t signal);
WASI(sched_yield) int32_t raw_sched_yield(void);
WASI(random_get) int32_t raw_random_get(int32_t buf, int32_t len);
WASI(sock_accept) int32_t raw_sock_accept(int32_t fd, int32_t flags, int32_t out);
WASI(sock_recv) int32_t raw_sock_recv(int32_t fd, int32_t iovs, int32_t count, int32_t flags, int32_t outlen, int32_t outflags);
WASI(sock_send) int32_t raw_sock_send(int32_t fd, int32_t iovs, int32_t count, int32_t flags, int32_t outlen);
WASI(sock_shutdown) int32_t raw_sock_shutdown(int32_t fd, int32_t how);

#endif
