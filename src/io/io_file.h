/*
 * io/io_file.h: small, careful file helpers for state the program keeps.
 *
 * A state file must survive a crash or power cut at any instant: it is
 * written to a temporary file in the same directory, flushed to disk, renamed
 * over the target and the directory is flushed too, so a reader always finds
 * either the complete old file or the complete new one. A file that cannot be
 * understood is moved aside rather than overwritten, so nothing the user had
 * is lost silently.
 */
#ifndef SUNWIRE_IO_FILE_H
#define SUNWIRE_IO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Read a whole regular file into a malloc'd, NUL-terminated buffer (free()
 * it). SW_ERR_NOT_FOUND when the path does not exist, SW_ERR_OPEN when it is
 * not a regular file or cannot be opened, SW_ERR_TOO_LONG above max_len,
 * SW_ERR_IO on a read error (errno kept).
 */
sw_err sw_file_read_all(const char *path, size_t max_len, char **data_out, size_t *len_out);

/*
 * Atomically replace `path` with data: write `tmp_path` (same directory),
 * fsync, rename over path, fsync the directory. On failure the target is
 * untouched and the temporary file removed; errno is kept.
 */
sw_err sw_file_write_atomic(const char *path, const char *tmp_path, const void *data, size_t len);

/*
 * Rename `path` to "<path>.corrupt-<YYYYMMDDTHHMMSSZ>" (with "-<n>" appended
 * if that exists already) and store the new name in out. unix_s gives the
 * time in the name.
 */
sw_err sw_file_move_aside(const char *path, int64_t unix_s, char *out, size_t cap);

/*
 * Why an I/O call failed, for a message that already names the path: the
 * system's reason (strerror(err)) for the codes that come with an errno
 * (SW_ERR_IO, SW_ERR_OPEN, SW_ERR_CONNECT), else the code's
 * own message. Read errno right after the failing call and pass it as err.
 */
const char *sw_io_reason(sw_err e, int err);

#ifdef __cplusplus
}
#endif
#endif
