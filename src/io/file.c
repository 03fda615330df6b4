/*
 * file.c: whole-file reads, crash-safe replacement, moving bad files aside
 * (see io/io_file.h). Trusts the file system's rename() to be atomic
 * within one directory, which POSIX guarantees.
 */
#include "io/io_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/net.h"

sw_err sw_file_read_all(const char *path, size_t max_len, char **data_out, size_t *len_out)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? SW_ERR_NOT_FOUND : SW_ERR_OPEN;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return SW_ERR_OPEN;
    }
    if ((uint64_t)st.st_size > max_len)
        return SW_ERR_TOO_LONG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SW_ERR_NOT_FOUND : SW_ERR_OPEN;
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return SW_ERR_NO_MEMORY;
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > max_len + 1) {
                free(buf);
                close(fd);
                return SW_ERR_TOO_LONG;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return SW_ERR_NO_MEMORY;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return SW_ERR_IO;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (len > max_len) {
        free(buf);
        return SW_ERR_TOO_LONG;
    }
    buf[len] = '\0';
    *data_out = buf;
    *len_out = len;
    return SW_OK;
}

/* The directory part of a path ("." when there is none). */
static void dir_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

sw_err sw_file_write_atomic(const char *path, const char *tmp_path, const void *data, size_t len)
{
    if (!path || !tmp_path || !*path || strcmp(path, tmp_path) == 0)
        return SW_ERR_INVALID_ARGUMENT;
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return SW_ERR_OPEN;
    sw_err e = sw_write_all(fd, data, len);
    if (!e && fsync(fd) != 0)
        e = SW_ERR_IO;
    int saved = errno;
    if (close(fd) != 0 && !e) {
        e = SW_ERR_IO;
        saved = errno;
    }
    if (!e && rename(tmp_path, path) != 0) {
        e = SW_ERR_IO;
        saved = errno;
    }
    if (e) {
        unlink(tmp_path);
        errno = saved;
        return e;
    }
    /* The rename itself is only durable once the directory entry is on disk. */
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return SW_OK;
}

sw_err sw_file_move_aside(const char *path, int64_t unix_s, char *out, size_t cap)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    char stamp[32];
    if (!gmtime_r(&t, &tm) || strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) == 0)
        snprintf(stamp, sizeof stamp, "%lld", (long long)unix_s);
    for (int n = 0; n < 1000; n++) {
        int w = n ? snprintf(out, cap, "%s.corrupt-%s-%d", path, stamp, n)
                  : snprintf(out, cap, "%s.corrupt-%s", path, stamp);
        if (w < 0 || (size_t)w >= cap)
            return SW_ERR_NO_SPACE;
        struct stat st;
        if (lstat(out, &st) == 0)
            continue;
        if (rename(path, out) != 0)
            return SW_ERR_IO;
        return SW_OK;
    }
    errno = EEXIST;
    return SW_ERR_IO;
}

const char *sw_io_reason(sw_err e, int err)
{
    bool has_errno = e == SW_ERR_IO || e == SW_ERR_OPEN || e == SW_ERR_CONNECT;
    return has_errno && err > 0 ? strerror(err) : sw_err_message(e);
}
