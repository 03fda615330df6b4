/* Unit tests for the fault table and its text form, for the line faults
 * of the simulated Tigo bus (silent, no controller, a faulty line), and for
 * what the controller sends under the firmware and pv-off faults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_faults.h"
#include "sim/sim_tigo.h"
#include "sunwire/tigo_link.h"
#include "testutil.h"

#define SEC 1000000000LL
#define NOON (1750464000LL + 12 * 3600LL) * SEC

static void test_table_in_enum_order(void **state)
{
    (void)state;
    size_t n = 0;
    const sw_sim_fault_info *t = sw_sim_fault_table(&n);
    assert_int_equal(n, SW_SIM_FAULT_KIND_COUNT - 1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(t[i].kind, (int)i + 1);
        assert_ptr_equal(sw_sim_fault_info_of(t[i].kind), &t[i]);
        assert_non_null(t[i].help);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(t[i].name, t[j].name);
    }
    assert_null(sw_sim_fault_info_of(SW_SIM_FAULT_NONE));
}

static void test_parse_forms(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        sw_sim_fault_kind kind;
        double value;
        int64_t start_s, end_s;
    } ok[] = {
        { "inverted", SW_SIM_FAULT_INVERTED, 0, 0, 0 },
        { "inverted@10m", SW_SIM_FAULT_INVERTED, 0, 600, 0 },
        { "baud=9600", SW_SIM_FAULT_BAUD, 9600, 0, 0 },
        { "baud:19200@90", SW_SIM_FAULT_BAUD, 19200, 90, 0 },
        { "noise", SW_SIM_FAULT_NOISE, 0.001, 0, 0 },
        { "noise=0.01@5m-1h", SW_SIM_FAULT_NOISE, 0.01, 300, 3600 },
        { "silent@1.5h", SW_SIM_FAULT_SILENT, 0, 5400, 0 },
        { "no-controller@2d", SW_SIM_FAULT_NO_CONTROLLER, 0, 2 * 86400, 0 },
        { "firmware@1h", SW_SIM_FAULT_FIRMWARE, 0, 3600, 0 },
        { "pv-off@10m-85m", SW_SIM_FAULT_PV_OFF, 0, 600, 5100 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sw_sim_fault f;
        char err[128] = "";
        assert_int_equal(sw_sim_fault_parse(ok[i].text, &f, err, sizeof err), SW_OK);
        assert_int_equal(f.kind, ok[i].kind);
        assert_true(f.value == ok[i].value);
        assert_true(f.start_ns == ok[i].start_s * SEC);
        assert_true(f.end_ns == ok[i].end_s * SEC);
    }
    static const struct {
        const char *text;
        sw_err e;
        const char *says;
    } bad[] = {
        { "sparks", SW_ERR_INVALID_ARGUMENT, "unknown fault" },
        { "baud", SW_ERR_INVALID_ARGUMENT, "needs a value" },
        { "baud=", SW_ERR_INVALID_ARGUMENT, "empty" },
        { "baud=fast", SW_ERR_BAD_NUMBER, "not a number" },
        { "baud=10", SW_ERR_OUT_OF_RANGE, "outside" },
        { "noise=0.9", SW_ERR_OUT_OF_RANGE, "outside" },
        { "inverted=1", SW_ERR_INVALID_ARGUMENT, "takes no argument" },
        { "silent@soon", SW_ERR_BAD_NUMBER, "not a time" },
        { "silent@10m-5m", SW_ERR_OUT_OF_RANGE, "end after" },
        { "silent@-5", SW_ERR_BAD_NUMBER, "not a time" },
        { "firmware=G8.72", SW_ERR_INVALID_ARGUMENT, "takes no argument" },
        { "pv-off:1", SW_ERR_INVALID_ARGUMENT, "takes no argument" },
        { "pv_off", SW_ERR_INVALID_ARGUMENT, "unknown fault" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_sim_fault f;
        char err[128] = "";
        assert_int_equal(sw_sim_fault_parse(bad[i].text, &f, err, sizeof err), bad[i].e);
        assert_non_null(strstr(err, bad[i].says));
    }
}

static void test_in_force_window(void **state)
{
    (void)state;
    sw_sim_faults fl = { 0 };
    assert_int_equal(sw_sim_faults_add(&fl, "noise=0.1@10-20", NULL, 0), SW_OK);
    assert_int_equal(sw_sim_faults_add(&fl, "silent@30", NULL, 0), SW_OK);
    assert_null(sw_sim_faults_active(&fl, SW_SIM_FAULT_NOISE, 9 * SEC));
    assert_non_null(sw_sim_faults_active(&fl, SW_SIM_FAULT_NOISE, 10 * SEC));
    assert_null(sw_sim_faults_active(&fl, SW_SIM_FAULT_NOISE, 20 * SEC));
    assert_null(sw_sim_faults_active(&fl, SW_SIM_FAULT_SILENT, 29 * SEC));
    assert_non_null(sw_sim_faults_active(&fl, SW_SIM_FAULT_SILENT, 3000 * SEC));
    assert_true(sw_sim_faults_has(&fl, SW_SIM_FAULT_SILENT));
    assert_false(sw_sim_faults_has(&fl, SW_SIM_FAULT_INVERTED));
    for (int i = 2; i < SW_SIM_MAX_FAULTS; i++)
        assert_int_equal(sw_sim_faults_add(&fl, "inverted", NULL, 0), SW_OK);
    assert_int_equal(sw_sim_faults_add(&fl, "inverted", NULL, 0), SW_ERR_NO_SPACE);
}

typedef struct tally {
    uint64_t from_gw, to_gw;
} tally;

static int count_frame(sw_tigo_link_receiver *rx, const sw_tigo_frame *f, void *user)
{
    tally *t = user;
    (void)rx;
    if (sw_tigo_addr_is_from_gateway(f->address))
        t->from_gw++;
    else
        t->to_gw++;
    return 0;
}

/* Runs `seconds` of bus with the faults and counts what a 38400 listener decodes, before and after `split_s`. */
static void run(const char *const *faults, size_t nf, int seconds, int split_s, tally out[2], uint64_t *bytes)
{
    sw_tigo_sim_config cfg;
    sw_tigo_sim_config_default(&cfg, 3, NOON);
    for (size_t i = 0; i < nf; i++)
        assert_int_equal(sw_sim_faults_add(&cfg.faults, faults[i], NULL, 0), SW_OK);
    sw_tigo_sim *s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(sw_tigo_sim_init(s, &cfg, NULL, NULL), SW_OK);
    sw_tigo_link_receiver rx[2];
    memset(out, 0, 2 * sizeof *out);
    sw_tigo_link_receiver_init(&rx[0], SW_TIGO_LINK_MODE_IMPROVED, count_frame, &out[0]);
    sw_tigo_link_receiver_init(&rx[1], SW_TIGO_LINK_MODE_IMPROVED, count_frame, &out[1]);
    *bytes = 0;
    int64_t last = 0;
    while (sw_tigo_sim_peek_time(s) <= NOON + seconds * SEC) {
        static uint8_t buf[SW_TIGO_SIM_CHUNK_MAX];
        size_t n;
        int64_t t;
        assert_int_equal(sw_tigo_sim_next(s, buf, sizeof buf, &n, &t), SW_OK);
        assert_true(t >= last);
        last = t;
        *bytes += n;
        sw_tigo_link_receiver_push(&rx[t >= NOON + split_s * SEC], buf, n, NULL);
        /* the simulator holds no pointer to itself: move it to a new place between frames */
        sw_tigo_sim *moved = malloc(sizeof *moved);
        assert_non_null(moved);
        memcpy(moved, s, sizeof *moved);
        memset(s, 0xA5, sizeof *s);
        free(s);
        s = moved;
    }
    free(s);
}

static void test_line_faults_reach_the_listener(void **state)
{
    (void)state;
    tally t[2];
    uint64_t bytes;
    const char *none[] = { "silent@1h" };
    run(none, 1, 60, 30, t, &bytes);
    assert_true(t[0].from_gw > 50 && t[0].to_gw > 50 && t[1].from_gw > 50 && t[1].to_gw > 50);

    const char *silent[] = { "silent@30" };
    run(silent, 1, 60, 31, t, &bytes);
    assert_true(t[0].from_gw > 50 && t[0].to_gw > 50);
    assert_int_equal(t[1].from_gw + t[1].to_gw, 0);

    const char *noctl[] = { "no-controller@30" };
    run(noctl, 1, 60, 31, t, &bytes);
    assert_true(t[0].to_gw > 50);
    assert_true(t[1].from_gw > 50);
    assert_int_equal(t[1].to_gw, 0);

    /* swapped wires or a wrong rate: bytes, but no frame a 38400 listener could decode */
    const char *inv[] = { "inverted@30" };
    run(inv, 1, 60, 31, t, &bytes);
    assert_true(t[0].to_gw > 50 && bytes > 1000);
    assert_int_equal(t[1].from_gw + t[1].to_gw, 0);
    const char *slow[] = { "baud=9600" };
    run(slow, 1, 60, 0, t, &bytes);
    assert_true(bytes > 1000);
    assert_int_equal(t[1].from_gw + t[1].to_gw, 0);

    /* noise for a while: fewer frames, then all of them again */
    const char *noisy[] = { "noise=0.01@0-30" };
    tally clean[2];
    run(none, 1, 60, 30, clean, &bytes);
    run(noisy, 1, 60, 30, t, &bytes);
    assert_true(t[0].to_gw + t[0].from_gw < (clean[0].to_gw + clean[0].from_gw) / 2);
    assert_true(t[1].to_gw + t[1].from_gw + 2 >= clean[1].to_gw + clean[1].from_gw);
}

/* What the controller says on the bus because of the firmware and pv-off faults. */
typedef struct said {
    int64_t now;
    size_t n_bc, n_ver;
    struct {
        int64_t t;
        uint16_t gw, value;
    } bc[16];
    struct {
        int64_t t;
        uint16_t gw;
        char first[32];
    } ver[16];
} said;

static int note_controller(sw_tigo_link_receiver *rx, const sw_tigo_frame *f, void *user)
{
    said *sd = user;
    (void)rx;
    uint16_t gw = f->address & 0x7FFFu;
    if (f->type == SW_TIGO_FT_COMMAND_REQUEST && f->payload_len == 7 && f->payload[3] == 0x22 && sd->n_bc < 16) {
        sd->bc[sd->n_bc].t = sd->now;
        sd->bc[sd->n_bc].gw = gw;
        sd->bc[sd->n_bc].value = (uint16_t)(f->payload[5] << 8 | f->payload[6]);
        sd->n_bc++;
    }
    if (f->type == SW_TIGO_FT_VERSION_RESPONSE && sd->n_ver < 16) {
        size_t n = 0;
        while (n < f->payload_len && n < 31 && f->payload[n] != '\r')
            n++;
        sd->ver[sd->n_ver].t = sd->now;
        sd->ver[sd->n_ver].gw = gw;
        memcpy(sd->ver[sd->n_ver].first, f->payload, n);
        sd->ver[sd->n_ver].first[n] = 0;
        sd->n_ver++;
    }
    return 0;
}

static bool near(int64_t t, int64_t want_s)
{
    return t >= NOON + want_s * SEC && t <= NOON + (want_s + 10) * SEC;
}

static void test_controller_faults_on_the_bus(void **state)
{
    (void)state;
    sw_tigo_sim_config cfg;
    sw_tigo_sim_config_default(&cfg, 3, NOON);
    cfg.gateways = 2;
    cfg.panels = 4;
    assert_int_equal(sw_sim_faults_add(&cfg.faults, "pv-off@1m-70m", NULL, 0), SW_OK);
    assert_int_equal(sw_sim_faults_add(&cfg.faults, "firmware@2m-3m", NULL, 0), SW_OK);
    sw_tigo_sim *s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(sw_tigo_sim_init(s, &cfg, NULL, NULL), SW_OK);
    said sd = { 0 };
    sw_tigo_link_receiver rx;
    sw_tigo_link_receiver_init(&rx, SW_TIGO_LINK_MODE_IMPROVED, note_controller, &sd);
    static uint8_t buf[SW_TIGO_SIM_CHUNK_MAX];
    while (sw_tigo_sim_peek_time(s) <= NOON + 72 * 60 * SEC) {
        size_t n;
        assert_int_equal(sw_tigo_sim_next(s, buf, sizeof buf, &n, &sd.now), SW_OK);
        sw_tigo_link_receiver_push(&rx, buf, n, NULL);
    }
    /* PV off through both TAPs at START, lifted for 20 s an hour later and asserted again, lifted at END */
    static const struct {
        int64_t at_s;
        uint16_t value;
    } want[] = { { 60, 1 }, { 3660, 0 }, { 3680, 1 }, { 4200, 0 } };
    assert_int_equal(sd.n_bc, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_true(near(sd.bc[i].t, want[i / 2].at_s));
        assert_int_equal(sd.bc[i].value, want[i / 2].value);
        assert_int_equal(sd.bc[i].gw, sw_tigo_sim_gateway_id(s, (unsigned)(i % 2)));
    }
    /* versions at the start, then an enumeration as the first TAP is updated and one as it is rolled back */
    char old_fw[32], new_fw[32];
    snprintf(old_fw, sizeof old_fw, "%.*s", (int)strcspn(sw_tigo_sim_gateway_version(s), "\r"),
             sw_tigo_sim_gateway_version(s));
    const char *updated = sw_tigo_sim_gateway_version_at(s, 0, NOON + 120 * SEC);
    snprintf(new_fw, sizeof new_fw, "%.*s", (int)strcspn(updated, "\r"), updated);
    assert_string_not_equal(old_fw, new_fw);
    assert_string_equal(sw_tigo_sim_gateway_version_at(s, 1, NOON + 120 * SEC), sw_tigo_sim_gateway_version(s));
    assert_int_equal(sd.n_ver, 6);
    static const int64_t ver_at_s[3] = { 0, 120, 180 };
    for (size_t i = 0; i < 6; i++) {
        assert_true(near(sd.ver[i].t, ver_at_s[i / 2]));
        assert_int_equal(sd.ver[i].gw, sw_tigo_sim_gateway_id(s, (unsigned)(i % 2)));
        assert_string_equal(sd.ver[i].first, i == 2 ? new_fw : old_fw);
    }
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_in_enum_order),
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_in_force_window),
        cmocka_unit_test(test_line_faults_reach_the_listener),
        cmocka_unit_test(test_controller_faults_on_the_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
