/*
 * io/stop_signals.h: signals delivered on an event loop; SIGINT and SIGTERM stop it.
 *
 * The self-pipe every command that runs a loop needs: the handler writes the
 * signal number to a pipe the loop watches, so the loop wakes from whatever it
 * waits for and hands the signal on (or stops). A handler can only reach
 * global state, so there is one such watch per process at a time.
 */
#ifndef SUNWIRE_IO_STOP_SIGNALS_H
#define SUNWIRE_IO_STOP_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Called on the loop, with the loop first, for each watched signal that came, in
 * order. Return 0 to go on, non-zero to stop the loop.
 */
typedef int (*sw_signal_cb)(sw_loop *loop, int sig, void *user);

/*
 * Watch sigs (at most 8) on loop: each one that comes is handed to cb; a NULL
 * cb stops the loop on any of them. restart and errors as below.
 */
sw_err sw_signals_watch(sw_loop *loop, bool restart, const int *sigs, size_t n_sigs, sw_signal_cb cb,
                        void *user);

/*
 * SIGINT and SIGTERM stop loop (sw_signals_watch with no callback); SIGPIPE is ignored (a
 * closed peer is an error code, not a death). restart: whether a system call
 * the signal interrupts is restarted (SA_RESTART) or fails with EINTR.
 * SW_ERR_IO (errno set) or SW_ERR_NO_SPACE when it cannot.
 */
sw_err sw_stop_signals_watch(sw_loop *loop, bool restart);
/* The stop signal that came since the watch began, or 0. Safe to call anywhere. */
int sw_stop_signals_caught(void);
/* Back to the default handlers for every watched signal; the pipe is closed and off loop (NULL: loop already freed). */
void sw_stop_signals_unwatch(sw_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
