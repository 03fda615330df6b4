/* The line doctor against the simulated bus: every line fault the simulator
 * can inject gets the verdict that names it, and a sound bus is healthy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_tigo.h"
#include "tigo/doctor.h"
#include "testutil.h"

#define SEC 1000000000LL
#define NOON (1750464000LL + 12 * 3600LL) * SEC

/* `seconds` of a simulated bus with the faults, through the doctor. */
static void diagnose_with(const char *const *faults, size_t n_faults, unsigned gateways, int seconds,
                          sw_tigo_doctor_result *r)
{
    sw_tigo_sim_config cfg;
    sw_tigo_sim_config_default(&cfg, 5, NOON);
    cfg.gateways = gateways;
    for (size_t i = 0; i < n_faults; i++)
        assert_int_equal(sw_sim_faults_add(&cfg.faults, faults[i], NULL, 0), SW_OK);
    sw_tigo_sim *s = malloc(sizeof *s);
    sw_tigo_doctor *d = malloc(sizeof *d);
    assert_non_null(s);
    assert_non_null(d);
    assert_int_equal(sw_tigo_sim_init(s, &cfg, NULL, NULL), SW_OK);
    sw_tigo_doctor_init(d);
    while (sw_tigo_sim_peek_time(s) <= NOON + seconds * SEC) {
        static uint8_t buf[SW_TIGO_SIM_CHUNK_MAX];
        size_t n;
        int64_t t;
        assert_int_equal(sw_tigo_sim_next(s, buf, sizeof buf, &n, &t), SW_OK);
        sw_tigo_doctor_push(d, buf, n, t);
    }
    sw_tigo_doctor_verdict_get(d, 0, r);
    free(s);
    free(d);
}

static void diagnose(const char *fault, unsigned gateways, int seconds, sw_tigo_doctor_result *r)
{
    diagnose_with(&fault, fault ? 1 : 0, gateways, seconds, r);
}

static void test_sound_bus_is_healthy(void **state)
{
    (void)state;
    sw_tigo_doctor_result r;
    diagnose(NULL, 2, 30, &r);
    assert_int_equal(r.verdict, SW_TIGO_DOCTOR_HEALTHY);
    assert_int_equal(r.gateways, 2);
    assert_true(r.damaged_pct < 0.5);
    assert_non_null(strstr(r.text, "healthy: 2 gateways"));
}

static void test_each_wrong_line_is_named(void **state)
{
    (void)state;
    static const struct {
        const char *fault;
        uint32_t rate;
        bool inverted;
        const char *says;
    } cases[] = {
        { "inverted", 38400, true, "matches inverted polarity)" },
        { "baud=9600", 9600, false, "read at 9600 baud" },
        { "baud=19200", 19200, false, "read at 19200 baud" },
        { "baud=57600", 57600, false, "read at 57600 baud" },
        { "baud=115200", 115200, false, "read at 115200 baud" },
        { "baud=14400", 14400, false, "read at 14400 baud" },
        { "baud=28800", 28800, false, "read at 28800 baud" },
        { "baud=76800", 76800, false, "read at 76800 baud" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_tigo_doctor_result r;
        diagnose(cases[i].fault, 1, 30, &r);
        print_message("%s: %s\n", cases[i].fault, r.text);
        assert_int_equal(r.verdict, SW_TIGO_DOCTOR_WRONG_LINE);
        assert_int_equal(r.rx_baud, cases[i].rate);
        assert_int_equal(r.inverted, cases[i].inverted);
        assert_non_null(strstr(r.text, cases[i].says));
    }
}

static void test_inverted_and_wrong_rate(void **state)
{
    (void)state;
    static const uint32_t rates[] = { 9600, 14400, 19200, 28800, 57600, 76800, 115200 };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        char baud[32];
        snprintf(baud, sizeof baud, "baud=%u", (unsigned)rates[i]);
        const char *faults[] = { baud, "inverted" }; /* both at once: the simulator takes a list */
        sw_tigo_doctor_result r;
        diagnose_with(faults, 2, 1, 30, &r);
        print_message("inverted %s: %s\n", baud, r.text);
        assert_int_equal(r.verdict, SW_TIGO_DOCTOR_WRONG_LINE);
        assert_true(r.inverted);
        assert_int_equal(r.rx_baud, rates[i]);
    }
}

static void test_other_faults(void **state)
{
    (void)state;
    sw_tigo_doctor_result r;
    /* too slow a listener leaves no pattern to match: still no frames, and said so */
    diagnose("baud=4800", 1, 30, &r);
    assert_int_equal(r.verdict, SW_TIGO_DOCTOR_GARBLED);
    assert_non_null(strstr(r.text, "bytes but no frame starts: wrong baud rate, A/B swapped or wrong serial"));

    diagnose("silent", 1, 30, &r);
    assert_int_equal(r.verdict, SW_TIGO_DOCTOR_NO_BYTES);
    assert_string_equal(r.text, "no bytes: check power and the A/B connection");

    diagnose("noise=0.001", 1, 30, &r);
    print_message("noise: %s\n", r.text);
    assert_int_equal(r.verdict, SW_TIGO_DOCTOR_NOISY);
    assert_non_null(strstr(r.text, "frames but many CRC errors"));

    diagnose("noise=0.01", 1, 30, &r);
    print_message("heavy noise: %s\n", r.text);
    assert_int_equal(r.verdict, SW_TIGO_DOCTOR_NOISY);

    diagnose("no-controller", 2, 30, &r);
    assert_int_equal(r.verdict, SW_TIGO_DOCTOR_NO_CONTROLLER);
    assert_non_null(strstr(r.text, "no CCA on the bus (2 gateways heard)"));
}

/* Any chunking gives the same verdict, and a moved doctor keeps counting. */
static void test_chunking_and_moving(void **state)
{
    (void)state;
    sw_tigo_sim_config cfg;
    sw_tigo_sim_config_default(&cfg, 9, NOON);
    assert_int_equal(sw_sim_faults_add(&cfg.faults, "baud=57600", NULL, 0), SW_OK);
    sw_tigo_sim *s = malloc(sizeof *s);
    sw_tigo_doctor *whole = malloc(sizeof *whole), *bytewise = malloc(sizeof *bytewise);
    sw_tigo_doctor *moved = malloc(sizeof *moved);
    assert_int_equal(sw_tigo_sim_init(s, &cfg, NULL, NULL), SW_OK);
    sw_tigo_doctor_init(whole);
    sw_tigo_doctor_init(bytewise);
    while (sw_tigo_sim_peek_time(s) <= NOON + 10 * SEC) {
        static uint8_t buf[SW_TIGO_SIM_CHUNK_MAX];
        size_t n;
        int64_t t;
        assert_int_equal(sw_tigo_sim_next(s, buf, sizeof buf, &n, &t), SW_OK);
        sw_tigo_doctor_push(whole, buf, n, t);
        for (size_t i = 0; i < n; i++) {
            sw_tigo_doctor_push(bytewise, buf + i, 1, t);
            memcpy(moved, bytewise, sizeof *moved);
            memset(bytewise, 0x5A, sizeof *bytewise);
            memcpy(bytewise, moved, sizeof *moved);
        }
    }
    sw_tigo_doctor_result a, b;
    sw_tigo_doctor_verdict_get(whole, 0, &a);
    sw_tigo_doctor_verdict_get(bytewise, 0, &b);
    assert_int_equal(a.verdict, SW_TIGO_DOCTOR_WRONG_LINE);
    assert_string_equal(a.text, b.text);
    assert_true(a.line_hits == b.line_hits && a.bytes == b.bytes && a.garbage == b.garbage);
    /* a live line that went quiet */
    sw_tigo_doctor_verdict_get(whole, whole->last_ns + 61 * SEC, &a);
    assert_int_equal(a.verdict, SW_TIGO_DOCTOR_NO_BYTES);
    assert_non_null(strstr(a.text, "no bytes for 61 s"));
    sw_tigo_doctor_reset(whole);
    sw_tigo_doctor_verdict_get(whole, 0, &a);
    assert_int_equal(a.verdict, SW_TIGO_DOCTOR_NO_BYTES);
    free(s);
    free(whole);
    free(bytewise);
    free(moved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sound_bus_is_healthy),
        cmocka_unit_test(test_each_wrong_line_is_named),
        cmocka_unit_test(test_inverted_and_wrong_rate),
        cmocka_unit_test(test_other_faults),
        cmocka_unit_test(test_chunking_and_moving),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
