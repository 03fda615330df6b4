/*
 * rctclient.c: the rctclient persona as a program of its own.
 *
 * It runs the same RCT command group as `sunwire rctclient`, but links only the
 * RCT protocol core and the I/O edges it talks through, so it starts without
 * mapping the daemon's libraries (MQTT, HTTP, SQLite, curl).
 */
#include <signal.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    /* A closed stdout must not kill the process silently: writes fail with EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);
    return sw_cli_rct(argc, argv, "rctclient", SW_PERSONA_RCTCLIENT);
}
