/*
 * The state directory's file handling: atomic replacement (no temporary left
 * behind, old content intact when a write cannot happen) and reading back.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon_int.h"
#include "testutil.h"

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_atomic_write(void **state)
{
    (void)state;
    char dir[] = "sw_persist_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/panels.json", dir);

    char *text = NULL;
    size_t len = 0;
    assert_int_equal(sw_daemon_read_file(path, &text, &len), SW_ERR_NOT_FOUND);

    const char *first = "{\"version\":1}";
    assert_int_equal(sw_daemon_write_atomic(path, first, strlen(first)), SW_OK);
    assert_int_equal(sw_daemon_read_file(path, &text, &len), SW_OK);
    assert_int_equal(len, strlen(first));
    assert_string_equal(text, first);
    free(text);

    /* A larger replacement, bigger than the reader's first buffer. */
    size_t big = 100000;
    char *second = malloc(big);
    assert_non_null(second);
    for (size_t i = 0; i < big; i++)
        second[i] = (char)('a' + i % 26);
    assert_int_equal(sw_daemon_write_atomic(path, second, big), SW_OK);
    assert_int_equal(sw_daemon_read_file(path, &text, &len), SW_OK);
    assert_int_equal(len, big);
    assert_memory_equal(text, second, big);
    free(text);
    free(second);
    /* Only the target is left: the temporary was renamed, not copied. */
    assert_int_equal(count_entries(dir), 1);

    /* A write that cannot happen leaves the old file as it was. */
    chmod(dir, 0500);
    if (access(dir, W_OK) != 0) { /* root may write anyway: then this part proves nothing */
        assert_int_not_equal(sw_daemon_write_atomic(path, first, strlen(first)), SW_OK);
        assert_int_equal(sw_daemon_read_file(path, &text, &len), SW_OK);
        assert_int_equal(len, big);
        free(text);
    }
    chmod(dir, 0700);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.json", dir);
    assert_int_equal(sw_daemon_write_atomic(missing, first, strlen(first)), SW_ERR_OPEN);
    assert_int_equal(count_entries(dir), 1);

    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
