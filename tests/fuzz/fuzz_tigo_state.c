/*
 * Fuzz target: the state-file loader. Whatever parses must serialise, and the
 * serialised text must parse back to an equal state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/tigo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_tigo_state *a, *b;
    static char *buf;
    static const size_t cap = 4 << 20;
    if (!a) {
        a = malloc(sizeof *a);
        b = malloc(sizeof *b);
        buf = malloc(cap);
    }
    char err[256];
    sw_tigo_state_init(a);
    if (sw_tigo_state_parse(a, (const char *)data, size, err, sizeof err) != SW_OK)
        return 0;
    size_t n;
    if (sw_tigo_state_serialize(a, buf, cap, &n) != SW_OK)
        abort();
    sw_tigo_state_init(b);
    if (sw_tigo_state_parse(b, buf, n, err, sizeof err) != SW_OK || !sw_tigo_state_equal(a, b))
        abort();
    return 0;
}
