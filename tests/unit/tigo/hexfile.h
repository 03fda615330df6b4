/* Reading the one-capture-per-line .hex files of tests/data/tigo-fw4 (test helper). */
#ifndef SW_TEST_TIGO_HEXFILE_H
#define SW_TEST_TIGO_HEXFILE_H

#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "testutil.h"

#define HEXFILE_MAX_LINES 16
typedef struct hexfile {
    size_t n;
    size_t len[HEXFILE_MAX_LINES];
    uint8_t line[HEXFILE_MAX_LINES][600];
} hexfile;

/* Data lines only: '#' comments and blank lines are skipped. */
static inline void hexfile_load(const char *relpath, hexfile *hf)
{
    size_t flen;
    uint8_t *text = tu_load_file(relpath, &flen);
    memset(hf, 0, sizeof *hf);
    size_t pos = 0;
    while (pos < flen) {
        size_t end = pos;
        while (end < flen && text[end] != '\n')
            end++;
        size_t s = pos;
        while (s < end && (text[s] == ' ' || text[s] == '\r' || text[s] == '\t'))
            s++;
        size_t e = end;
        while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\r' || text[e - 1] == '\t'))
            e--;
        if (e > s && text[s] != '#') {
            assert_true(hf->n < HEXFILE_MAX_LINES);
            assert_int_equal(sw_hex_decode((const char *)text + s, e - s, hf->line[hf->n], sizeof hf->line[0],
                                           &hf->len[hf->n]),
                             SW_OK);
            hf->n++;
        }
        pos = end + 1;
    }
    free(text);
}

#endif
