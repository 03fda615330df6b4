/* cmd_run.c: `sunwire run` (placeholder until it lands). */
#include <stdio.h>

#include "cli/cli.h"

int sw_cli_run(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "sunwire run: not built yet\n");
    return 2;
}
