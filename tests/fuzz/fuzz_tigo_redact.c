/*
 * Fuzz target: the radio key redactor (sunwire/tigo_redact.h). The first
 * input byte sets a chunk size; the rest is bus bytes. Checks that the output
 * never outgrows SW_TIGO_REDACTOR_OUT_MAX, that it is the same however the
 * input is cut, and that no link receiver (either mode) finds a radio
 * configuration response with a key byte left in the redacted stream.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/tigo.h"

static uint8_t *run(const uint8_t *p, size_t n, size_t chunk, size_t *out_len)
{
    sw_tigo_redactor r;
    sw_tigo_redactor_init(&r);
    uint8_t *out = malloc(SW_TIGO_REDACTOR_OUT_MAX(n) + SW_TIGO_REDACTOR_SLACK);
    if (!out)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        size_t w = 0;
        if (sw_tigo_redactor_push(&r, p + i, k, out + o, SW_TIGO_REDACTOR_OUT_MAX(k), &w) != SW_OK ||
            w > SW_TIGO_REDACTOR_OUT_MAX(k))
            abort();
        o += w;
    }
    size_t w = 0;
    if (sw_tigo_redactor_finish(&r, out + o, SW_TIGO_REDACTOR_SLACK, &w) != SW_OK || w > SW_TIGO_REDACTOR_SLACK)
        abort();
    *out_len = o + w;
    return out;
}

static int on_frame(sw_tigo_link_receiver *rx, const sw_tigo_frame *f, void *user)
{
    (void)rx;
    (void)user;
    size_t off = 0, len = 0;
    if (sw_tigo_redact_key_span(f->address, f->type, f->payload, f->payload_len, &off, &len))
        for (size_t i = 0; i < len; i++)
            if (f->payload[off + i] != 0) {
                fprintf(stderr, "a key byte survived redaction\n");
                abort();
            }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)data[0] % 64 + 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    size_t la = 0, lb = 0;
    uint8_t *a = run(p, n, n ? n : 1, &la);
    uint8_t *b = run(p, n, chunk, &lb);
    if (la != lb || memcmp(a, b, la) != 0) {
        fprintf(stderr, "the output depends on the chunking\n");
        abort();
    }
    for (int mode = 0; mode < 2; mode++) {
        sw_tigo_link_receiver rx;
        sw_tigo_link_receiver_init(&rx, (sw_tigo_link_mode)mode, on_frame, NULL);
        sw_tigo_link_receiver_push(&rx, a, la, NULL);
    }
    free(a);
    free(b);
    return 0;
}
