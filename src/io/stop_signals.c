/* stop_signals.c: SIGINT and SIGTERM stop an event loop (see io/stop_signals.h). */
#include "io/stop_signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int stop_pipe[2] = { -1, -1 };
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
    caught = sig;
    int saved = errno;
    if (stop_pipe[1] >= 0) {
        ssize_t w = write(stop_pipe[1], "", 1);
        (void)w;
    }
    errno = saved;
}

static void on_stop_pipe(sw_loop *loop, int fd, int events, void *user)
{
    (void)events; (void)user;
    char b[16];
    while (read(fd, b, sizeof b) > 0) {
    }
    sw_loop_stop(loop);
}

sw_err sw_stop_signals_watch(sw_loop *loop, bool restart)
{
    if (!loop || stop_pipe[0] >= 0)
        return SW_ERR_INVALID_ARGUMENT;
    if (pipe(stop_pipe) != 0)
        return SW_ERR_IO;
    for (int i = 0; i < 2; i++) {
        if (fcntl(stop_pipe[i], F_SETFL, O_NONBLOCK) != 0 || fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC) != 0) {
            int err = errno;
            sw_stop_signals_unwatch(NULL);
            errno = err;
            return SW_ERR_IO;
        }
    }
    sw_err e = sw_loop_add_fd(loop, stop_pipe[0], SW_LOOP_READ, on_stop_pipe, NULL);
    if (e != SW_OK) {
        sw_stop_signals_unwatch(NULL);
        return e;
    }
    caught = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return SW_OK;
}

int sw_stop_signals_caught(void) { return caught; }

void sw_stop_signals_unwatch(sw_loop *loop)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (loop && stop_pipe[0] >= 0)
        sw_loop_del_fd(loop, stop_pipe[0]);
    for (int i = 0; i < 2; i++) {
        int fd = stop_pipe[i];
        stop_pipe[i] = -1;
        if (fd >= 0)
            close(fd);
    }
}
