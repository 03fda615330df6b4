/*
 * sunwire/loop.h: a small single-threaded event loop (poll(2) and timers).
 *
 * Modelled on redis's ae: file descriptors with read/write interest, one-shot
 * or repeating timers on the monotonic clock, and nothing else. The loop never
 * busy-waits: poll() sleeps until the next timer is due or an fd is ready.
 * Callbacks may add and remove fds and timers, stop the loop, and free the
 * object they belong to (a removed watcher is never called again, even later
 * in the same iteration).
 *
 * Capacities are fixed at compile time (SW_LOOP_MAX_FDS, SW_LOOP_MAX_TIMERS);
 * registering more fails with SW_ERR_NO_SPACE instead of growing.
 */
#ifndef SUNWIRE_LOOP_H
#define SUNWIRE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_LOOP_MAX_FDS 256
#define SW_LOOP_MAX_TIMERS 256

enum { SW_LOOP_READ = 1, SW_LOOP_WRITE = 2 };

typedef struct sw_loop sw_loop;

/* events: SW_LOOP_READ and/or SW_LOOP_WRITE that are ready (errors and hang-ups count as READ). */
typedef void (*sw_loop_fd_cb)(sw_loop *loop, int fd, int events, void *user);
/* Return the next delay in ms to repeat the timer, or a negative value to delete it. */
typedef int64_t (*sw_loop_timer_cb)(sw_loop *loop, uint64_t timer_id, void *user);

/* Allocates the loop (the one allocation, at start-up). NULL on out of memory. */
SW_API sw_loop *sw_loop_new(void);
SW_API void sw_loop_free(sw_loop *loop);

/* Watch fd for `events`; calling again for the same fd replaces the interest and callback. */
SW_API sw_err sw_loop_add_fd(sw_loop *loop, int fd, int events, sw_loop_fd_cb cb, void *user);
/* Change the interest of a watched fd (0 = keep watching nothing). */
SW_API sw_err sw_loop_set_fd_events(sw_loop *loop, int fd, int events);
SW_API void sw_loop_del_fd(sw_loop *loop, int fd);

/* Call cb after delay_ms; the id (never 0) can be used to delete it. */
SW_API uint64_t sw_loop_add_timer(sw_loop *loop, int64_t delay_ms, sw_loop_timer_cb cb, void *user);
SW_API void sw_loop_del_timer(sw_loop *loop, uint64_t timer_id);

/* Run until sw_loop_stop. Returns SW_OK, or SW_ERR_IO when poll fails. */
SW_API sw_err sw_loop_run(sw_loop *loop);
/* One iteration, waiting at most max_wait_ms (-1 = until something happens). */
SW_API sw_err sw_loop_run_once(sw_loop *loop, int64_t max_wait_ms);
SW_API void sw_loop_stop(sw_loop *loop);
SW_API bool sw_loop_stopped(const sw_loop *loop);

/* Monotonic milliseconds, as the loop sees them. */
SW_API int64_t sw_loop_now_ms(void);

/* Statistics: how many times poll() returned (tests use this to prove there is no busy wait). */
SW_API uint64_t sw_loop_wakeups(const sw_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
