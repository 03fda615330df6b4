/* The UART line model: what a listener reads from a line that is sound,
 * swapped, at another rate or noisy, checked against bit patterns worked out
 * by hand, and its bookkeeping (split pushes, moved structs, seeds). */
#include <stdlib.h>
#include <string.h>

#include "tigo/line.h"
#include "testutil.h"

typedef struct got {
    uint8_t b[4096];
    int64_t t[4096];
    size_t n;
} got;

static int keep(sw_tigo_line *line, uint8_t byte, int64_t t_ns, void *user)
{
    got *g = user;
    (void)line;
    assert_true(g->n < sizeof g->b);
    g->t[g->n] = t_ns;
    g->b[g->n++] = byte;
    return 0;
}

static void receive(uint32_t rx, bool inverted, const uint8_t *in, size_t n, uint8_t *out, size_t *out_n)
{
    sw_tigo_line_config cfg = { SW_TIGO_LINE_BAUD, rx, inverted, 0.0, 0 };
    sw_tigo_line_receive(&cfg, in, n, out, 64, out_n);
}

static void test_sound_line_is_transparent(void **state)
{
    (void)state;
    uint8_t in[200], out[64 * 4];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 37 + 11);
    sw_tigo_line_config cfg = { SW_TIGO_LINE_BAUD, SW_TIGO_LINE_BAUD, false, 0.0, 0 };
    size_t n = 0;
    sw_tigo_line_receive(&cfg, in, 60, out, sizeof out, &n);
    assert_int_equal(n, 60);
    assert_memory_equal(in, out, 60);
}

static void test_hand_worked_patterns(void **state)
{
    (void)state;
    uint8_t out[64];
    size_t n;
    /* swapped wires, 00: the line rises at the (inverted) start bit, stays high
     * through the data and falls at the stop bit; the UART starts there and
     * reads the idle (low) line: 00 with a framing error */
    static const uint8_t zero[] = { 0x00 };
    receive(SW_TIGO_LINE_BAUD, true, zero, 1, out, &n);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 0x00);
    /* swapped, FF: high start bit, low data: the edge is at data bit 0, and all it reads is low */
    static const uint8_t ff[] = { 0xFF };
    receive(SW_TIGO_LINE_BAUD, true, ff, 1, out, &n);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 0x00);
    /* a plain XOR would give F0 for 0F; the inverted UART reads nothing like it */
    static const uint8_t of[] = { 0x0F };
    receive(SW_TIGO_LINE_BAUD, true, of, 1, out, &n);
    assert_true(n >= 1);
    assert_int_not_equal(out[0], 0xF0);
    /* twice the rate, 0F: the first byte samples start, then four ones twice over: FE;
     * the second starts at the first zero data bit and ends on the stop bit: 80 */
    receive(2 * SW_TIGO_LINE_BAUD, false, of, 1, out, &n);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 0xFE);
    assert_int_equal(out[1], 0x80);
    /* a quarter of the rate, 55 AA: samples every fourth bit cell of both bytes */
    static const uint8_t two[] = { 0x55, 0xAA };
    receive(SW_TIGO_LINE_BAUD / 4, false, two, 2, out, &n);
    assert_int_equal(n, 1);
    /* cells: 0 s, 1..8 = 1 0 1 0 1 0 1 0, 9 stop, 10 s, 11..18 = 0 1 0 1 0 1 0 1, 19 stop;
     * samples at 6, 10, 14, 18, 22, 26, 30, 34 -> 0 0 1 1 1 1 1 1 = FC */
    assert_int_equal(out[0], 0xFC);
}

static void test_split_and_moved(void **state)
{
    (void)state;
    uint8_t frames[3][40];
    for (int f = 0; f < 3; f++)
        for (int i = 0; i < 40; i++)
            frames[f][i] = (uint8_t)(f * 71 + i * 13);
    sw_tigo_line_config cfg = { SW_TIGO_LINE_BAUD, 57600, true, 0.01, 42 };
    got *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    sw_tigo_line *l1 = malloc(sizeof *l1), *l2 = malloc(sizeof *l2);
    assert_int_equal(sw_tigo_line_init(l1, &cfg, keep, a), SW_OK);
    for (int f = 0; f < 3; f++)
        assert_int_equal(sw_tigo_line_push(l1, frames[f], 40, 1000000000LL + f * 20000000LL), 0);
    sw_tigo_line_finish(l1);
    /* the same stream through a struct copied to another place after each frame */
    assert_int_equal(sw_tigo_line_init(l2, &cfg, keep, b), SW_OK);
    for (int f = 0; f < 3; f++) {
        sw_tigo_line_push(l2, frames[f], 40, 1000000000LL + f * 20000000LL);
        sw_tigo_line tmp;
        memcpy(&tmp, l2, sizeof tmp);
        memset(l2, 0xAB, sizeof *l2);
        memcpy(l2, &tmp, sizeof tmp);
    }
    sw_tigo_line_finish(l2);
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->b, b->b, a->n);
    assert_true(a->n > 60);
    for (size_t i = 1; i < a->n; i++)
        assert_true(a->t[i] >= a->t[i - 1]);
    /* another seed flips other bits */
    got *c = calloc(1, sizeof *c);
    cfg.seed = 43;
    assert_int_equal(sw_tigo_line_init(l1, &cfg, keep, c), SW_OK);
    for (int f = 0; f < 3; f++)
        sw_tigo_line_push(l1, frames[f], 40, 1000000000LL + f * 20000000LL);
    sw_tigo_line_finish(l1);
    assert_true(c->n != a->n || memcmp(c->b, a->b, a->n) != 0);
    free(a);
    free(b);
    free(c);
    free(l1);
    free(l2);
}

static void test_bad_config(void **state)
{
    (void)state;
    sw_tigo_line l;
    sw_tigo_line_config cfg = { SW_TIGO_LINE_BAUD, 0, false, 0.0, 0 };
    assert_int_equal(sw_tigo_line_init(&l, &cfg, NULL, NULL), SW_ERR_INVALID_ARGUMENT);
    cfg.rx_baud = 9600;
    cfg.noise = 0.7;
    assert_int_equal(sw_tigo_line_init(&l, &cfg, NULL, NULL), SW_ERR_INVALID_ARGUMENT);
    cfg.noise = 0.0;
    assert_int_equal(sw_tigo_line_init(&l, &cfg, NULL, NULL), SW_OK);
    static uint8_t big[SW_TIGO_LINE_MAX_FRAME + 1];
    assert_int_equal(sw_tigo_line_push(&l, big, sizeof big, 0), SW_ERR_TOO_LONG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sound_line_is_transparent),
        cmocka_unit_test(test_hand_worked_patterns),
        cmocka_unit_test(test_split_and_moved),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
