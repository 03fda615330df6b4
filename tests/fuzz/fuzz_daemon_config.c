/*
 * Fuzz target: the daemon's configuration parser, the way `sunwire run
 * --config` reaches it (INI text -> per-key setters -> cross-section checks ->
 * every output's own key parser). The input is the file's text; a NUL in it
 * ends the text, as it would for a C string read from disk.
 *
 * Trusts nothing from the input. Asserts that a failed parse always says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    sw_daemon_config c;
    if (sw_daemon_config_init(&c) != SW_OK) {
        free(text);
        return 0;
    }
    char err[512];
    err[0] = '\0';
    sw_err e = sw_daemon_config_load_string(&c, "fuzz.ini", text, err, sizeof err);
    /* An error the user cannot read would be a bug: the message names the file. */
    if (e == SW_ERR_INVALID_ARGUMENT && err[0] == '\0')
        abort();
    if (e == SW_OK) {
        err[0] = '\0';
        if (sw_daemon_config_check(&c, err, sizeof err) != SW_OK && err[0] == '\0')
            abort();
        err[0] = '\0';
        if (sw_daemon_outputs_check(&c, err, sizeof err) != SW_OK && err[0] == '\0')
            abort();
    }
    sw_daemon_config_free(&c);

    /* The same text through the flag-level helpers the command line uses. */
    char host[256];
    uint16_t port;
    sw_parse_host_port(text, host, sizeof host, &port, 8899);
    if (sw_daemon_config_init(&c) == SW_OK) {
        sw_daemon_config_add_panels(&c, text, err, sizeof err);
        sw_daemon_config_free(&c);
    }
    free(text);
    return 0;
}
