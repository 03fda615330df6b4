/* cmd_demo.c: `sunwire demo` (placeholder until it lands). */
#include <stdio.h>

#include "cli/cli.h"

int sw_cli_demo(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "sunwire demo: not built yet\n");
    return 2;
}
