/*
 * Fuzz target: the pcapng capture reader (what `--file` replays), with the
 * bytes of every packet pushed through the Tigo observer. The input is read
 * twice, once in one piece and once in pieces whose sizes its last byte
 * picks; both reads must give the same packets, the same error (if any) and
 * the same end state.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "chunking.h"
#include "sunwire/io_capture.h"
#include "sunwire/tigo.h"

static fz_digest read_capture(const uint8_t *data, size_t size, fz_splitter *split, sw_tigo_observer *obs)
{
    static uint8_t block[1 << 16];
    fz_digest d;
    fz_digest_init(&d);
    sw_pcapng_reader r;
    sw_pcapng_reader_init(&r, block, sizeof block);
    size_t pos = 0;
    while (pos < size) {
        size_t end = pos + (split ? fz_piece(split, size - pos) : size - pos);
        while (pos < end) {
            size_t used = 0;
            sw_capture_packet pkt;
            bool got = false;
            sw_err e = sw_pcapng_reader_push(&r, data + pos, end - pos, &used, &pkt, &got);
            if (e != SW_OK) {
                fz_mix_u64(&d, (uint64_t)e);
                return d;
            }
            if (got) {
                fz_mix_u64(&d, (uint64_t)pkt.unix_ns);
                fz_mix_u64(&d, (uint64_t)pkt.interface_id << 16 | pkt.linktype);
                fz_mix(&d, pkt.data, pkt.len);
                if (obs)
                    sw_tigo_observer_push(obs, pkt.data, pkt.len, pkt.unix_ns, NULL);
            }
            if (used == 0 && !got) {
                fz_mix_u64(&d, UINT64_MAX); /* no progress (the reader should have reported an error) */
                return d;
            }
            pos += used;
        }
    }
    fz_mix_u64(&d, (uint64_t)sw_pcapng_reader_finish(&r));
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_tigo_observer *obs;
    if (!obs)
        obs = malloc(sizeof *obs);
    if (size < 1)
        return 0;
    sw_tigo_observer_init(obs, 0, NULL, NULL);
    fz_digest whole = read_capture(data, size, NULL, obs);
    fz_splitter sp;
    fz_splitter_init(&sp, data[size - 1]);
    fz_digest split = read_capture(data, size, &sp, NULL);
    fz_same(&whole, &split, "pcapng reader");
    return 0;
}
