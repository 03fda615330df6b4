/* Unit tests for SHA-256 (src/core/sha256.c): the FIPS 180-4 example vectors, every split point, and the comparison. */
#include <stdio.h>
#include <string.h>

#include "core/sha256.h"
#include "testutil.h"

static void hex(const uint8_t *d, char out[65])
{
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_known_digests(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrst"
          "nopqrstu",
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t d[32];
        char h[65];
        size_t n = strlen(cases[i].in);
        sw_sha256(cases[i].in, n, d);
        hex(d, h);
        assert_string_equal(h, cases[i].want);
        /* the same in two pieces, cut anywhere */
        for (size_t cut = 0; cut <= n; cut++) {
            sw_sha256_ctx c;
            sw_sha256_init(&c);
            sw_sha256_push(&c, cases[i].in, cut);
            sw_sha256_push(&c, cases[i].in + cut, n - cut);
            sw_sha256_finish(&c, d);
            hex(d, h);
            assert_string_equal(h, cases[i].want);
        }
    }
    /* a million 'a' (the long FIPS example) */
    static char a[1000];
    memset(a, 'a', sizeof a);
    sw_sha256_ctx c;
    sw_sha256_init(&c);
    for (int i = 0; i < 1000; i++)
        sw_sha256_push(&c, a, sizeof a);
    uint8_t d[32];
    char h[65];
    sw_sha256_finish(&c, d);
    hex(d, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_equal_const_time(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    memset(a, 7, sizeof a);
    memcpy(b, a, sizeof b);
    assert_true(sw_equal_const_time(a, b, 32));
    for (size_t i = 0; i < 32; i++) {
        b[i] ^= 0x10;
        assert_false(sw_equal_const_time(a, b, 32));
        b[i] ^= 0x10;
    }
    assert_true(sw_equal_const_time(a, b, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_known_digests), cmocka_unit_test(test_equal_const_time) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
