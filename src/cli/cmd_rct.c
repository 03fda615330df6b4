/* cmd_rct.c: the RCT command group (placeholder until the RCT CLI lands). */
#include <stdio.h>

#include "cli/cli.h"

int sw_cli_rct(int argc, char **argv, const char *prog, sw_persona persona)
{
    (void)argc; (void)argv; (void)persona;
    fprintf(stderr, "%s: the RCT commands are not built yet\n", prog);
    return 2;
}
