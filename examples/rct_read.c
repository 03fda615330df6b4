/*
 * rct_read: ask an RCT Power inverter for one object and print the decoded answer.
 *
 *   rct_read HOST [PORT] OBJECT-NAME        e.g. rct_read 192.0.2.20 battery.soc
 *
 * The library builds the request frame, finds the answer in the bytes that
 * come back (sw_rct_frame_parse) and decodes it with the object's type from
 * the registry (sw_rct_decode_reply). The socket is this program's own: the
 * protocol code never touches one.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <sunwire/rct.h>

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
    int err = getaddrinfo(host, port, &hints, &res);
    if (err != 0) {
        fprintf(stderr, "%s: %s\n", host, gai_strerror(err));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        perror("connect");
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: rct_read HOST [PORT] OBJECT-NAME\n");
        return 2;
    }
    const char *name = argv[argc - 1], *port = argc == 4 ? argv[2] : "8899";
    const sw_rct_object *obj = sw_rct_registry_find_name(name);
    if (!obj) {
        fprintf(stderr, "%s: no such object in the registry\n", name);
        return 2;
    }
    uint8_t req[64];
    size_t req_len;
    sw_err e = sw_rct_frame_build(SW_RCT_CMD_READ, obj->id, 0, NULL, 0, req, sizeof req, &req_len);
    if (e != SW_OK) {
        fprintf(stderr, "cannot build the request: %s\n", sw_err_message(e));
        return 1;
    }
    int fd = connect_to(argv[1], port);
    if (fd < 0)
        return 1;
    struct timeval tv = { .tv_sec = 3 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (write(fd, req, req_len) != (ssize_t)req_len) {
        perror("write");
        return 1;
    }

    /* Collect bytes until a frame answering our object arrives; skip anything else. */
    static uint8_t in[65536], body[SW_RCT_RECEIVER_BODY_MAX];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, in + have, sizeof in - have);
        if (n <= 0) {
            fprintf(stderr, "%s: no answer\n", name);
            return 1;
        }
        have += (size_t)n;
        size_t pos = 0;
        for (;;) {
            sw_rct_frame f;
            ptrdiff_t r = sw_rct_frame_parse(in + pos, have - pos, &f, body, sizeof body);
            if (r == SW_RCT_PARSE_NEED_MORE)
                break;
            if (r < 0) { /* a damaged frame: resume after its start token */
                pos++;
                continue;
            }
            pos += (size_t)r;
            if (f.id != obj->id || !sw_rct_command_is_response(f.command))
                continue;
            sw_rct_value v;
            static uint8_t storage[65536]; /* only time series and event tables need it */
            e = sw_rct_decode_reply(&f, NULL, &v, storage, sizeof storage);
            if (e != SW_OK) {
                fprintf(stderr, "%s: %s\n", name, sw_err_message(e));
                return 1;
            }
            char text[4096];
            sw_rct_value_to_text(&v, text, sizeof text);
            printf("%s: %s\n", name, text);
            close(fd);
            return 0;
        }
        memmove(in, in + pos, have - pos);
        have -= pos;
    }
}
