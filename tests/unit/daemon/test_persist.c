/*
 * The state directory's file handling: atomic replacement (no temporary left
 * behind, old content intact when a write cannot happen) and reading back;
 * a corrupt panels.json moved aside and the counters taken from the copy the
 * last save kept.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon_internal.h"
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

#define NS 1000000000LL
static const int64_t T_NOW = 1767225600LL * NS; /* 2026-01-01 00:00 UTC */

static sw_model *model_with(double total_wh)
{
    sw_model_options o;
    sw_model_options_defaults(&o);
    sw_model *m = sw_model_new(&o);
    assert_non_null(m);
    if (total_wh > 0)
        assert_int_equal(sw_model_panel_restore(m, "roof", 4609, 2, "4-A2346FZ", total_wh, 1.0, -1, T_NOW), SW_OK);
    return m;
}

static int count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static void corrupt(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"panels\": [{\"source\": \"roof\", \"gatew", f); /* a write cut short */
    fclose(f);
}

static void test_corrupt_energy_is_kept_and_restored(void **state)
{
    (void)state;
    char dir[] = "sw_persist_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], prev[160], err[512];
    snprintf(path, sizeof path, "%s/panels.json", dir);
    snprintf(prev, sizeof prev, "%s/panels.json.prev", dir);

    /* Two saves: the second keeps the first as panels.json.prev. */
    sw_model *m = model_with(1000.0);
    assert_int_equal(sw_daemon_save_energy(m, path, T_NOW), SW_OK);
    assert_int_equal(access(prev, F_OK), -1);
    sw_model_free(m);
    m = model_with(1500.0);
    assert_int_equal(sw_daemon_save_energy(m, path, T_NOW), SW_OK);
    assert_int_equal(access(prev, F_OK), 0);
    sw_model_free(m);

    /* Corrupt: moved aside, counters from .prev, nothing read as zero. */
    corrupt(path);
    m = model_with(0);
    err[0] = 0;
    assert_int_equal(sw_daemon_restore_energy(m, path, NULL, T_NOW, 1767225600, err, sizeof err), SW_OK);
    assert_int_equal(sw_model_panel_count(m), 1);
    assert_true(sw_model_panel_at(m, 0)->energy_total_wh == 1000.0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(count_prefix(dir, "panels.json.corrupt-"), 1);
    /* the next save writes the restored counters, not zeros */
    assert_int_equal(sw_daemon_save_energy(m, path, T_NOW), SW_OK);
    sw_model_free(m);
    m = model_with(0);
    assert_int_equal(sw_daemon_load_energy(m, path, T_NOW), SW_OK);
    assert_true(sw_model_panel_at(m, 0)->energy_total_wh == 1000.0);
    sw_model_free(m);

    /* Corrupt and no other copy: moved aside all the same, start empty. */
    unlink(prev);
    corrupt(path);
    m = model_with(0);
    assert_int_equal(sw_daemon_restore_energy(m, path, NULL, T_NOW, 1767225601, err, sizeof err), SW_OK);
    assert_int_equal(sw_model_panel_count(m), 0);
    assert_int_equal(count_prefix(dir, "panels.json.corrupt-"), 2);
    sw_model_free(m);

    /* Unreadable (a directory): an error naming it, nothing moved. */
    assert_int_equal(mkdir(path, 0700), 0);
    m = model_with(0);
    err[0] = 0;
    assert_int_not_equal(sw_daemon_restore_energy(m, path, NULL, T_NOW, 1767225602, err, sizeof err), SW_OK);
    assert_non_null(strstr(err, "it is a directory"));
    assert_non_null(strstr(err, path));
    assert_int_equal(count_prefix(dir, "panels.json.corrupt-"), 2);
    sw_model_free(m);

    /* Absent: nothing to do, no error. */
    rmdir(path);
    m = model_with(0);
    assert_int_equal(sw_daemon_restore_energy(m, path, NULL, T_NOW, 1767225603, err, sizeof err), SW_OK);
    sw_model_free(m);

    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        char f[400];
        snprintf(f, sizeof f, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(f);
    }
    closedir(d);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_corrupt_energy_is_kept_and_restored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
