/*
 * tigo_peek.c: `peek-bytes` and `record`, the two subcommands that look at
 * bytes rather than at decoded frames.
 *
 * peek-bytes keeps the "previous byte was 7E" flag across reads, as upstream
 * taptap does (the fork resets it per read and so loses the newline when a
 * 7E 08 pair is split between two reads).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/tigo_cli.h"
#include "sunwire/io_capture.h"
#include "io/log.h"
#include "io/net.h"

/* ---- peek-bytes ------------------------------------------------------------ */

typedef struct peek_bytes_ctx {
    tigo_cli *cli;
    bool after_7e;
    bool raw;
} peek_bytes_ctx;

static int peek_bytes_on(void *p, const uint8_t *data, size_t n, int64_t unix_ns)
{
    (void)unix_ns;
    peek_bytes_ctx *c = p;
    if (c->raw)
        return tigo_emit_bytes(c->cli, data, n) ? 1 : 0;
    static const char hex[] = "0123456789ABCDEF";
    char out[3 * 1024];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        out[k++] = hex[data[i] >> 4];
        out[k++] = hex[data[i] & 15];
        out[k++] = (c->after_7e && data[i] == 0x08) ? '\n' : ' ';
        c->after_7e = data[i] == 0x7E;
        if (k + 3 > sizeof out) {
            if (tigo_emit_bytes(c->cli, out, k))
                return 1;
            k = 0;
        }
    }
    return tigo_emit_bytes(c->cli, out, k) ? 1 : 0;
}

int tigo_cmd_peek_bytes(tigo_cli *cli)
{
    peek_bytes_ctx c = { .cli = cli, .raw = cli->args->raw };
    return tigo_run(cli, peek_bytes_on, &c);
}

/* ---- record ------------------------------------------------------------------ */

typedef struct record_ctx {
    tigo_cli *cli;
    int fd;
    uint64_t chunks, bytes;
    int write_errno;
    uint8_t *block; /* one packet block; a socket read may bring up to 64 KiB at once */
    size_t block_cap;
} record_ctx;

static int record_on(void *p, const uint8_t *data, size_t n, int64_t unix_ns)
{
    record_ctx *c = p;
    if (tigo_buffer_reserve(c->cli, &c->block, &c->block_cap, sw_pcapng_packet_size(n)) != 0)
        return 1;
    size_t len = 0;
    if (sw_pcapng_encode_packet(c->block, c->block_cap, &len, unix_ns, data, n) != SW_OK)
        return 1;
    /* One write per block: a killed recorder leaves at most one partial block. */
    if (sw_write_all(c->fd, c->block, len) != SW_OK) {
        c->write_errno = errno;
        return 1;
    }
    c->chunks++;
    c->bytes += n;
    return 0;
}

int tigo_cmd_record(tigo_cli *cli)
{
    const char *path = cli->args->out;
    bool to_stdout = strcmp(path, "-") == 0;
    record_ctx c = { .cli = cli };
    c.fd = to_stdout ? STDOUT_FILENO : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (c.fd < 0) {
        SW_LOGE(cli->log_target, "cannot create %s: %s", path, strerror(errno));
        return 1;
    }
    uint8_t hdr[512];
    size_t n = 0;
    char ifname[256];
    const tigo_args *a = cli->args;
    if (a->serial)
        snprintf(ifname, sizeof ifname, "%s", a->serial);
    else if (a->tcp)
        snprintf(ifname, sizeof ifname, "tcp:%s:%u", a->tcp, (unsigned)a->port);
    else
        snprintf(ifname, sizeof ifname, "file:%s", a->file);
    int rc = 1;
    if (sw_pcapng_encode_header(hdr, sizeof hdr, &n, "sunwire", ifname) != SW_OK ||
        sw_write_all(c.fd, hdr, n) != SW_OK) {
        SW_LOGE(cli->log_target, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    rc = tigo_run(cli, record_on, &c);
    if (c.write_errno) {
        SW_LOGE(cli->log_target, "cannot write %s: %s", path, strerror(c.write_errno));
        rc = 1;
    } else {
        SW_LOGI(cli->log_target, "recorded %llu bytes in %llu chunks to %s", (unsigned long long)c.bytes,
                (unsigned long long)c.chunks, to_stdout ? "<stdout>" : path);
    }
out:
    free(c.block);
    if (!to_stdout && close(c.fd) != 0 && rc == 0) {
        SW_LOGE(cli->log_target, "cannot write %s: %s", path, strerror(errno));
        rc = 1;
    }
    return rc;
}
