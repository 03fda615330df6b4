/*
 * Unit tests for the Tigo command-line parser (src/cli/tigo_args.c).
 *
 * The parser is part of the program, not of the library, so its source is
 * compiled into this test directly. Expectations follow the fork's clap
 * rules: exactly one source, --port/keepalive only with an explicit --tcp,
 * defaults never conflict, duplicates and bad numbers are usage errors.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/tigo_args.c"
#include "testutil.h"

#define MAXARGS 16

typedef struct args_case {
    const char *argv[MAXARGS];
    tigo_action action;
    tigo_cmd cmd;
    const char *error_has; /* substring of the error text, or NULL */
} args_case;

static const args_case cases[] = {
    { { "taptap", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_NONE, NULL },
    { { "taptap", "-V", NULL }, TIGO_ACTION_VERSION, TIGO_CMD_NONE, NULL },
    { { "taptap", "--version", NULL }, TIGO_ACTION_VERSION, TIGO_CMD_NONE, NULL },
    { { "taptap", "--help", NULL }, TIGO_ACTION_HELP, TIGO_CMD_NONE, NULL },
    { { "taptap", "help", NULL }, TIGO_ACTION_HELP, TIGO_CMD_HELP, NULL },
    { { "taptap", "help", "observe", NULL }, TIGO_ACTION_HELP, TIGO_CMD_HELP, NULL },
    { { "taptap", "help", "nope", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_HELP, "unrecognized subcommand 'nope'" },
    { { "taptap", "observe", "-V", NULL }, TIGO_ACTION_VERSION, TIGO_CMD_OBSERVE, NULL },
    { { "taptap", "observe", "-h", NULL }, TIGO_ACTION_HELP, TIGO_CMD_OBSERVE, NULL },
    { { "taptap", "frobnicate", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_NONE, "unrecognized subcommand" },
    { { "taptap", "--serial", "/dev/x", "observe", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_NONE, "unexpected argument '--serial'" },
    { { "taptap", "list-serial-ports", NULL }, TIGO_ACTION_RUN, TIGO_CMD_LIST_SERIAL_PORTS, NULL },
    { { "taptap", "list-serial-ports", "--serial", "/dev/x", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_LIST_SERIAL_PORTS, "unexpected argument '--serial'" },
    { { "taptap", "observe", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "required arguments were not provided" },
    { { "taptap", "observe", "--serial", "/dev/ttyUSB0", NULL }, TIGO_ACTION_RUN, TIGO_CMD_OBSERVE, NULL },
    { { "taptap", "observe", "--serial=/dev/ttyUSB0", NULL }, TIGO_ACTION_RUN, TIGO_CMD_OBSERVE, NULL },
    { { "taptap", "observe", "--tcp", "10.0.0.5", "--port", "7160", "--state-file", "s.json", NULL }, TIGO_ACTION_RUN, TIGO_CMD_OBSERVE, NULL },
    { { "taptap", "observe", "--tcp", "h", "--serial", "/dev/x", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "'--serial <SERIAL-PORT>' cannot be used with '--tcp <DESTINATION>'" },
    { { "taptap", "observe", "--serial", "/dev/x", "--file", "f", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "cannot be used with '--file <PATH>'" },
    { { "taptap", "observe", "--serial", "/dev/x", "--port", "502", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "'--serial <SERIAL-PORT>' cannot be used with '--port <PORT NUMBER>'" },
    { { "taptap", "observe", "--serial", "/dev/x", "--keepalive-idle", "5", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "--keepalive-idle" },
    { { "taptap", "observe", "--serial", "/dev/x", "--keepalive-count=5", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "--keepalive-count" },
    { { "taptap", "observe", "--port", "502", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "--tcp <DESTINATION>" },
    { { "taptap", "observe", "--serial", "/dev/x", "--reconnect-timeout", "0", "--reconnect-retry", "3", "--reconnect-delay", "1", NULL }, TIGO_ACTION_RUN, TIGO_CMD_OBSERVE, NULL },
    { { "taptap", "observe", "--tcp", "h", "--port", "65536", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "number too large to fit in target type" },
    { { "taptap", "observe", "--tcp", "h", "--port", "", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "cannot parse integer from empty string" },
    { { "taptap", "observe", "--tcp", "h", "--reconnect-retry", "1x", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "invalid digit found in string" },
    { { "taptap", "observe", "--tcp", "h", "--reconnect-retry", "4294967296", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "number too large" },
    { { "taptap", "observe", "--tcp", "h", "--port", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "a value is required for '--port <PORT NUMBER>'" },
    { { "taptap", "observe", "--tcp", "--port", "5", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "a value is required for '--tcp <DESTINATION>'" },
    { { "taptap", "observe", "--tcp", "h", "--persistent-file", "a", "--state-file", "b", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "cannot be used multiple times" },
    { { "taptap", "observe", "--tcp", "h", "--raw", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "unexpected argument '--raw'" },
    { { "taptap", "observe", "--tcp", "h", "extra", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "unexpected argument 'extra'" },
    { { "taptap", "observe", "--tcp", "h", "--format", "xml", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_OBSERVE, "possible values: fork, upstream" },
    { { "taptap", "peek-bytes", "--raw", "--file", "-", NULL }, TIGO_ACTION_RUN, TIGO_CMD_PEEK_BYTES, NULL },
    { { "taptap", "peek-bytes", "--raw=yes", "--file", "x", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_PEEK_BYTES, "unexpected value 'yes' for '--raw'" },
    { { "taptap", "peek-frames", "--json", "--file", "x", "--speed", "20", NULL }, TIGO_ACTION_RUN, TIGO_CMD_PEEK_FRAMES, NULL },
    { { "taptap", "peek-frames", "--file", "x", "--speed", "0", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_PEEK_FRAMES, "expected a positive number" },
    { { "taptap", "peek-activity", "--serial", "/dev/x", "--realtime", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_PEEK_ACTIVITY, "'--realtime'" },
    { { "taptap", "peek-bytes", "--json", "--file", "x", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_PEEK_BYTES, "unexpected argument '--json'" },
    { { "taptap", "record", "--file", "x", NULL }, TIGO_ACTION_USAGE_ERROR, TIGO_CMD_RECORD, "--out <FILE>" },
    { { "taptap", "record", "--tcp", "h", "--out", "c.pcapng", NULL }, TIGO_ACTION_RUN, TIGO_CMD_RECORD, NULL },
};

static int argc_of(const char *const *argv)
{
    int n = 0;
    while (argv[n])
        n++;
    return n;
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const args_case *c = &cases[i];
        tigo_args a;
        tigo_args_parse(argc_of(c->argv), (char **)c->argv, "taptap", SW_PERSONA_TAPTAP, &a);
        if (a.action != c->action || (c->action == TIGO_ACTION_RUN && a.cmd != c->cmd))
            fail_msg("case %zu (%s %s): action %d cmd %d, error: %s", i, c->argv[1] ? c->argv[1] : "",
                     c->argv[1] && c->argv[2] ? c->argv[2] : "", a.action, a.cmd, a.error);
        if (c->error_has) {
            if (!strstr(a.error, c->error_has))
                fail_msg("case %zu: '%s' not in: %s", i, c->error_has, a.error);
            /* clap's layout: message, usage, hint. */
            assert_true(strncmp(a.error, "error: ", 7) == 0);
            assert_non_null(strstr(a.error, "\n\nUsage: taptap"));
            assert_non_null(strstr(a.error, "For more information, try '--help'."));
        }
    }
}

static void test_defaults_and_values(void **state)
{
    (void)state;
    tigo_args a;
    const char *d[] = { "taptap", "observe", "--tcp", "10.0.0.5", NULL };
    tigo_args_parse(4, (char **)d, "taptap", SW_PERSONA_TAPTAP, &a);
    assert_int_equal(a.action, TIGO_ACTION_RUN);
    assert_string_equal(a.tcp, "10.0.0.5");
    assert_int_equal(a.port, 502);
    assert_int_equal(a.reconnect_timeout, 60);
    assert_int_equal(a.reconnect_retry, 0);
    assert_int_equal(a.reconnect_delay, 5);
    assert_int_equal(a.keepalive_idle, 30);
    assert_int_equal(a.keepalive_interval, 10);
    assert_int_equal(a.keepalive_count, 5);
    assert_string_equal(a.persistent_file, "");
    assert_int_equal(a.format, TIGO_FORMAT_FORK);

    const char *v[] = { "sunwire", "observe", "--tcp=h", "--port=7160", "--reconnect-timeout", "+7",
                        "--reconnect-retry=3", "--keepalive-idle", "11", "--keepalive-interval=12",
                        "--keepalive-count", "13", "--state-file=st.json", "--format", "upstream", NULL };
    tigo_args_parse(argc_of(v), (char **)v, "sunwire tigo", SW_PERSONA_SUNWIRE, &a);
    assert_int_equal(a.action, TIGO_ACTION_RUN);
    assert_int_equal(a.port, 7160);
    assert_int_equal(a.reconnect_timeout, 7);
    assert_int_equal(a.reconnect_retry, 3);
    assert_int_equal(a.keepalive_idle, 11);
    assert_int_equal(a.keepalive_interval, 12);
    assert_int_equal(a.keepalive_count, 13);
    assert_string_equal(a.persistent_file, "st.json");
    assert_int_equal(a.format, TIGO_FORMAT_UPSTREAM);

    const char *f[] = { "taptap", "observe", "--file", "-", "--speed", "2.5", NULL };
    tigo_args_parse(argc_of(f), (char **)f, "taptap", SW_PERSONA_TAPTAP, &a);
    assert_int_equal(a.action, TIGO_ACTION_RUN);
    assert_string_equal(a.file, "-");
    assert_true(a.realtime);
    assert_true(a.speed > 2.49 && a.speed < 2.51);

    const char *h[] = { "taptap", "help", "peek-bytes", NULL };
    tigo_args_parse(3, (char **)h, "taptap", SW_PERSONA_TAPTAP, &a);
    assert_int_equal(a.action, TIGO_ACTION_HELP);
    assert_int_equal(a.help_cmd, TIGO_CMD_PEEK_BYTES);
}

/* The first error does not depend on where in the line the offending flags stand. */
static void test_order_independent(void **state)
{
    (void)state;
    const char *x[] = { "taptap", "observe", "--port", "1", "--serial", "/dev/x", NULL };
    const char *y[] = { "taptap", "observe", "--serial", "/dev/x", "--port", "1", NULL };
    tigo_args a, b;
    tigo_args_parse(6, (char **)x, "taptap", SW_PERSONA_TAPTAP, &a);
    tigo_args_parse(6, (char **)y, "taptap", SW_PERSONA_TAPTAP, &b);
    assert_int_equal(a.action, TIGO_ACTION_USAGE_ERROR);
    assert_string_equal(a.error, b.error);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_order_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
