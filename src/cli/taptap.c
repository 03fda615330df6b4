/*
 * taptap.c: the taptap persona as a program of its own.
 *
 * It runs the same Tigo command group as `sunwire taptap`, but links only the
 * Tigo protocol core and the I/O edges it reads from, so it starts without
 * mapping the daemon's libraries (MQTT, HTTP, SQLite, curl).
 */
#include <signal.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    /* A closed stdout must not kill the process silently: writes fail with EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);
    return sw_cli_tigo(argc, argv, "taptap", SW_PERSONA_TAPTAP);
}
