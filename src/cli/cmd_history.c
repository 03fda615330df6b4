/* cmd_history.c: `sunwire history` (placeholder until it lands). */
#include <stdio.h>

#include "cli/cli.h"

int sw_cli_history(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "sunwire history: not built yet\n");
    return 2;
}
