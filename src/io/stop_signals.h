/*
 * io/stop_signals.h: SIGINT and SIGTERM stop an event loop.
 *
 * The self-pipe every command that runs a loop needs: the handler writes a
 * byte to a pipe the loop watches, so the loop wakes from whatever it waits
 * for and stops. A handler can only reach global state, so there is one such
 * watch per process at a time.
 */
#ifndef SUNWIRE_IO_STOP_SIGNALS_H
#define SUNWIRE_IO_STOP_SIGNALS_H

#include <stdbool.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Install the handlers and watch the pipe on loop; SIGPIPE is ignored (a
 * closed peer is an error code, not a death). restart: whether a system call
 * the signal interrupts is restarted (SA_RESTART) or fails with EINTR.
 * SW_ERR_IO (errno set) or SW_ERR_NO_SPACE when it cannot.
 */
sw_err sw_stop_signals_watch(sw_loop *loop, bool restart);
/* The stop signal that came since the watch began, or 0. Safe to call anywhere. */
int sw_stop_signals_caught(void);
/* Back to the default handlers; the pipe is closed and off loop (NULL: loop already freed). */
void sw_stop_signals_unwatch(sw_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
