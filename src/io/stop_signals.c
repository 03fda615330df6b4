/* stop_signals.c: signals delivered on an event loop (see io/stop_signals.h). */
#include "io/stop_signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MAX_SIGNALS 8

static int sig_pipe[2] = { -1, -1 };
static int watched[MAX_SIGNALS];
static size_t n_watched;
static sw_signal_cb watch_cb;
static void *watch_user;
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGINT || sig == SIGTERM)
        caught = sig;
    if (sig_pipe[1] >= 0) {
        unsigned char b = (unsigned char)sig;
        ssize_t w = write(sig_pipe[1], &b, 1);
        (void)w;
    }
    errno = saved;
}

static void on_sig_pipe(sw_loop *loop, int fd, int events, void *user)
{
    (void)events; (void)user;
    unsigned char b[16];
    ssize_t n;
    while ((n = read(fd, b, sizeof b)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (!watch_cb || watch_cb(loop, b[i], watch_user) != 0) {
                sw_loop_stop(loop);
                return;
            }
        }
    }
}

sw_err sw_signals_watch(sw_loop *loop, bool restart, const int *sigs, size_t n_sigs, sw_signal_cb cb,
                        void *user)
{
    if (!loop || !sigs || n_sigs == 0 || n_sigs > MAX_SIGNALS || sig_pipe[0] >= 0)
        return SW_ERR_INVALID_ARGUMENT;
    if (pipe(sig_pipe) != 0)
        return SW_ERR_IO;
    for (int i = 0; i < 2; i++) {
        if (fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK) != 0 || fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC) != 0) {
            int err = errno;
            sw_stop_signals_unwatch(NULL);
            errno = err;
            return SW_ERR_IO;
        }
    }
    sw_err e = sw_loop_add_fd(loop, sig_pipe[0], SW_LOOP_READ, on_sig_pipe, NULL);
    if (e != SW_OK) {
        sw_stop_signals_unwatch(NULL);
        return e;
    }
    caught = 0;
    watch_cb = cb;
    watch_user = user;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    n_watched = n_sigs;
    for (size_t i = 0; i < n_sigs; i++) {
        watched[i] = sigs[i];
        sigaction(sigs[i], &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
    return SW_OK;
}

sw_err sw_stop_signals_watch(sw_loop *loop, bool restart)
{
    static const int stop[] = { SIGINT, SIGTERM };
    return sw_signals_watch(loop, restart, stop, 2, NULL, NULL);
}

int sw_stop_signals_caught(void) { return caught; }

void sw_stop_signals_unwatch(sw_loop *loop)
{
    for (size_t i = 0; i < n_watched; i++)
        signal(watched[i], SIG_DFL);
    n_watched = 0;
    watch_cb = NULL;
    watch_user = NULL;
    if (loop && sig_pipe[0] >= 0)
        sw_loop_del_fd(loop, sig_pipe[0]);
    for (int i = 0; i < 2; i++) {
        int fd = sig_pipe[i];
        sig_pipe[i] = -1;
        if (fd >= 0)
            close(fd);
    }
}
