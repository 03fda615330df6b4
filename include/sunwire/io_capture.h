/*
 * sunwire/io_capture.h: capture files of raw bus bytes (pcapng).
 *
 * A capture is a pcapng file with one interface whose link type is
 * SW_CAPTURE_LINKTYPE (LINKTYPE_USER0: "private use", so no dissector guesses
 * at the content) and a nanosecond timestamp resolution. Every read from the
 * source becomes one Enhanced Packet Block carrying the bytes exactly as they
 * arrived and the wall-clock time of the read; replaying the blocks in order
 * reproduces the byte stream and the timing the observer saw.
 *
 * The encoder writes into caller buffers and the decoder is a push parser over
 * whatever chunks the caller has: neither touches files or clocks. The decoder
 * trusts nothing: lengths are checked against the block, the block against the
 * caller's buffer, and a file that stops inside a block is reported as
 * truncated rather than silently shortened. It reads both byte orders, any
 * if_tsresol and skips block types it does not need, so captures made by other
 * tools (e.g. tcpdump/dumpcap on a serial-over-TCP stream) load as well.
 */
#ifndef SUNWIRE_IO_CAPTURE_H
#define SUNWIRE_IO_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_CAPTURE_LINKTYPE 147u          /* LINKTYPE_USER0 */
#define SW_PCAPNG_MAGIC_BYTES 4
/* Block types the decoder understands. */
#define SW_PCAPNG_SHB 0x0A0D0D0Au
#define SW_PCAPNG_IDB 0x00000001u
#define SW_PCAPNG_SPB 0x00000003u
#define SW_PCAPNG_EPB 0x00000006u
#define SW_PCAPNG_MAX_IFACES 16

/* True when the first bytes of a file look like a pcapng section header. */
SW_API bool sw_pcapng_sniff(const uint8_t *p, size_t n);

/* ---- encoder ------------------------------------------------------------ */
/*
 * Section header + one interface description (link type SW_CAPTURE_LINKTYPE,
 * if_tsresol 9, optional if_name and shb_userappl text). Writes *n_out bytes.
 * SW_ERR_NO_SPACE when cap is too small (512 bytes always suffice for names up
 * to 200 bytes).
 */
SW_API sw_err sw_pcapng_encode_header(uint8_t *out, size_t cap, size_t *n_out,
                               const char *app, const char *if_name);
/* Bytes needed for one packet block carrying len bytes. */
SW_API size_t sw_pcapng_packet_size(size_t len);
/* One Enhanced Packet Block on interface 0, timestamp in ns since 1970 UTC. */
SW_API sw_err sw_pcapng_encode_packet(uint8_t *out, size_t cap, size_t *n_out,
                               int64_t unix_ns, const uint8_t *data, size_t len);

/* ---- decoder ------------------------------------------------------------ */
typedef struct sw_capture_packet {
    const uint8_t *data;   /* points into the reader's buffer; valid until the next feed */
    size_t len;
    int64_t unix_ns;       /* timestamp converted to ns since 1970 UTC */
    uint32_t interface_id;
    uint16_t linktype;     /* of the packet's interface */
} sw_capture_packet;

typedef struct sw_pcapng_reader {
    uint8_t *buf;          /* caller-owned: holds one block at a time */
    size_t cap;
    size_t have;           /* bytes of the current block collected so far */
    uint32_t block_len;    /* total length of the current block once known, else 0 */
    bool big_endian;       /* byte order of the current section */
    bool in_section;
    uint64_t offset;       /* file offset of the current block, for messages */
    uint32_t n_ifaces;
    struct {
        uint16_t linktype;
        uint64_t ticks_per_s;
        int64_t offset_s;
    } ifaces[SW_PCAPNG_MAX_IFACES];
} sw_pcapng_reader;

SW_API void sw_pcapng_reader_init(sw_pcapng_reader *r, uint8_t *buf, size_t cap);

/*
 * Consume input until one packet is complete or the input is used up.
 * *consumed says how much of in[] was taken; *got is set when pkt was filled
 * (then call again with the rest of the input). Errors: SW_ERR_BAD_CAPTURE for
 * malformed content (bad magic, inconsistent lengths, unknown interface),
 * SW_ERR_TOO_LONG when a block does not fit in the buffer.
 */
SW_API sw_err sw_pcapng_reader_push(sw_pcapng_reader *r, const uint8_t *in, size_t n,
                             size_t *consumed, sw_capture_packet *pkt, bool *got);

/* At end of input: SW_OK at a block boundary, else SW_ERR_TRUNCATED. */
SW_API sw_err sw_pcapng_reader_finish(const sw_pcapng_reader *r);

#ifdef __cplusplus
}
#endif
#endif
