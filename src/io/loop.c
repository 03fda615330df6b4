/*
 * loop.c: the event loop (see sunwire/loop.h).
 *
 * Fds live in a fixed table with a parallel pollfd array rebuilt each
 * iteration; timers in a fixed array scanned linearly (a few dozen at most in
 * practice, so a heap would cost more than it saves). Deletion marks entries
 * dead and compacts before the next poll, so callbacks can delete anything at
 * any time.
 */
#include "sunwire/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fd_watch {
    int fd;
    int events;
    sw_loop_fd_cb cb;
    void *user;
    bool live;
};

struct timer {
    uint64_t id;
    int64_t due_ms;
    sw_loop_timer_cb cb;
    void *user;
    bool live;
};

struct sw_loop {
    struct fd_watch fds[SW_LOOP_MAX_FDS];
    int n_fds;
    struct timer timers[SW_LOOP_MAX_TIMERS];
    int n_timers;
    uint64_t next_timer_id;
    bool stop;
    uint64_t wakeups;
    struct pollfd pfds[SW_LOOP_MAX_FDS];
    int pfd_owner[SW_LOOP_MAX_FDS];
};

int64_t sw_loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sw_loop *sw_loop_new(void)
{
    /* Not zeroed as a whole: the tables are read only below their counts, so
     * their pages stay untouched until used (a small program's private memory). */
    sw_loop *l = malloc(sizeof *l);
    if (!l)
        return NULL;
    l->n_fds = 0;
    l->n_timers = 0;
    l->next_timer_id = 1;
    l->stop = false;
    l->wakeups = 0;
    return l;
}

void sw_loop_free(sw_loop *loop) { free(loop); }

static struct fd_watch *find_fd(sw_loop *l, int fd)
{
    for (int i = 0; i < l->n_fds; i++)
        if (l->fds[i].live && l->fds[i].fd == fd)
            return &l->fds[i];
    return NULL;
}

sw_err sw_loop_add_fd(sw_loop *loop, int fd, int events, sw_loop_fd_cb cb, void *user)
{
    if (fd < 0 || !cb)
        return SW_ERR_INVALID_ARGUMENT;
    struct fd_watch *w = find_fd(loop, fd);
    if (!w) {
        for (int i = 0; i < loop->n_fds; i++)
            if (!loop->fds[i].live) { w = &loop->fds[i]; break; }
    }
    if (!w) {
        if (loop->n_fds >= SW_LOOP_MAX_FDS)
            return SW_ERR_NO_SPACE;
        w = &loop->fds[loop->n_fds++];
    }
    w->fd = fd;
    w->events = events;
    w->cb = cb;
    w->user = user;
    w->live = true;
    return SW_OK;
}

sw_err sw_loop_set_fd_events(sw_loop *loop, int fd, int events)
{
    struct fd_watch *w = find_fd(loop, fd);
    if (!w)
        return SW_ERR_NOT_FOUND;
    w->events = events;
    return SW_OK;
}

void sw_loop_del_fd(sw_loop *loop, int fd)
{
    struct fd_watch *w = find_fd(loop, fd);
    if (w)
        w->live = false;
}

uint64_t sw_loop_add_timer(sw_loop *loop, int64_t delay_ms, sw_loop_timer_cb cb, void *user)
{
    if (!cb)
        return 0;
    struct timer *t = NULL;
    for (int i = 0; i < loop->n_timers; i++)
        if (!loop->timers[i].live) { t = &loop->timers[i]; break; }
    if (!t) {
        if (loop->n_timers >= SW_LOOP_MAX_TIMERS)
            return 0;
        t = &loop->timers[loop->n_timers++];
    }
    t->id = loop->next_timer_id++;
    t->due_ms = sw_loop_now_ms() + (delay_ms > 0 ? delay_ms : 0);
    t->cb = cb;
    t->user = user;
    t->live = true;
    return t->id;
}

void sw_loop_del_timer(sw_loop *loop, uint64_t timer_id)
{
    for (int i = 0; i < loop->n_timers; i++)
        if (loop->timers[i].live && loop->timers[i].id == timer_id)
            loop->timers[i].live = false;
}

static void compact(sw_loop *l)
{
    while (l->n_fds > 0 && !l->fds[l->n_fds - 1].live)
        l->n_fds--;
    while (l->n_timers > 0 && !l->timers[l->n_timers - 1].live)
        l->n_timers--;
}

static void run_due_timers(sw_loop *l)
{
    int64_t now = sw_loop_now_ms();
    int n = l->n_timers; /* timers added by callbacks wait for the next iteration */
    for (int i = 0; i < n && !l->stop; i++) {
        struct timer *t = &l->timers[i];
        if (!t->live || t->due_ms > now)
            continue;
        uint64_t id = t->id;
        int64_t again = t->cb(l, id, t->user);
        /* The callback may have deleted this timer and reused the slot. */
        if (t->live && t->id == id) {
            if (again < 0)
                t->live = false;
            else
                t->due_ms = sw_loop_now_ms() + again;
        }
    }
}

sw_err sw_loop_run_once(sw_loop *loop, int64_t max_wait_ms)
{
    compact(loop);
    int64_t wait = max_wait_ms;
    int64_t now = sw_loop_now_ms();
    for (int i = 0; i < loop->n_timers; i++) {
        if (!loop->timers[i].live)
            continue;
        int64_t d = loop->timers[i].due_ms - now;
        if (d < 0)
            d = 0;
        if (wait < 0 || d < wait)
            wait = d;
    }
    int np = 0;
    for (int i = 0; i < loop->n_fds; i++) {
        struct fd_watch *w = &loop->fds[i];
        if (!w->live)
            continue;
        loop->pfds[np].fd = w->fd;
        loop->pfds[np].events = (short)(((w->events & SW_LOOP_READ) ? POLLIN : 0) |
                                        ((w->events & SW_LOOP_WRITE) ? POLLOUT : 0));
        loop->pfds[np].revents = 0;
        loop->pfd_owner[np] = i;
        np++;
    }
    int rc = poll(loop->pfds, (nfds_t)np, wait > 0x7fffffff ? 0x7fffffff : (int)wait);
    loop->wakeups++;
    if (rc < 0 && errno != EINTR)
        return SW_ERR_IO;
    for (int k = 0; rc > 0 && k < np && !loop->stop; k++) {
        short re = loop->pfds[k].revents;
        if (!re)
            continue;
        struct fd_watch *w = &loop->fds[loop->pfd_owner[k]];
        /* Skip watchers deleted (or replaced by another fd) earlier in this iteration. */
        if (!w->live || w->fd != loop->pfds[k].fd)
            continue;
        int ev = 0;
        if (re & (POLLIN | POLLERR | POLLHUP | POLLNVAL))
            ev |= SW_LOOP_READ;
        if (re & POLLOUT)
            ev |= SW_LOOP_WRITE;
        ev &= w->events | SW_LOOP_READ;
        if (ev)
            w->cb(loop, w->fd, ev, w->user);
    }
    run_due_timers(loop);
    return SW_OK;
}

sw_err sw_loop_run(sw_loop *loop)
{
    loop->stop = false;
    while (!loop->stop) {
        sw_err e = sw_loop_run_once(loop, -1);
        if (e != SW_OK)
            return e;
    }
    return SW_OK;
}

void sw_loop_stop(sw_loop *loop) { loop->stop = true; }
bool sw_loop_stopped(const sw_loop *loop) { return loop->stop; }
uint64_t sw_loop_wakeups(const sw_loop *loop) { return loop->wakeups; }
