/* tigo_observe.c: `observe` and `peek-activity` (wired to the observer as it lands). */
#include <stdio.h>

#include "cli/tigo_cli.h"
#include "sunwire/log.h"

int tigo_cmd_observe(tigo_cli *cli)
{
    SW_LOGE(cli->log_target, "observe is not available in this build yet");
    return 1;
}

int tigo_cmd_peek_activity(tigo_cli *cli)
{
    SW_LOGE(cli->log_target, "peek-activity is not available in this build yet");
    return 1;
}
