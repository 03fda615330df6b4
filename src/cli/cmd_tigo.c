/* cmd_tigo.c: the Tigo command group (placeholder until the Tigo CLI lands). */
#include <stdio.h>

#include "cli/cli.h"

int sw_cli_tigo(int argc, char **argv, const char *prog, sw_persona persona)
{
    (void)argc; (void)argv; (void)persona;
    fprintf(stderr, "%s: the Tigo commands are not built yet\n", prog);
    return 2;
}
