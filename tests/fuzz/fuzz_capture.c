/*
 * Fuzz target: the pcapng capture reader (what `--file` replays), fed in
 * chunks, with the bytes of every packet pushed through the Tigo observer.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "sunwire/io_capture.h"
#include "sunwire/tigo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_tigo_observer *obs;
    static uint8_t block[1 << 16];
    if (!obs)
        obs = malloc(sizeof *obs);
    sw_tigo_observer_init(obs, 0, NULL, NULL);
    sw_pcapng_reader r;
    sw_pcapng_reader_init(&r, block, sizeof block);
    size_t pos = 0, chunk = 3;
    while (pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        size_t used = 0;
        sw_capture_packet pkt;
        bool got = false;
        if (sw_pcapng_reader_feed(&r, data + pos, n, &used, &pkt, &got) != SW_OK)
            return 0;
        if (got)
            sw_tigo_observer_push(obs, pkt.data, pkt.len, pkt.unix_ns, NULL);
        if (used == 0 && !got)
            return 0; /* no progress: the reader must have reported an error instead */
        pos += used;
        chunk = chunk * 7 % 113 + 1;
    }
    sw_pcapng_reader_finish(&r);
    return 0;
}
