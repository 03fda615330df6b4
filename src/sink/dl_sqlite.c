/* dl_sqlite.c: the SQLite history's library, resolved at first use. */
#define SW_DL_SQLITE_IMPL 1
#include "sunwire_config.h"
#include "sink/dl_sqlite.h"

#include "io/dl.h"

#if SUNWIRE_HAVE_SQLITE

sw_dl_sqlite_api sw_dl_sqlite;

#define SW_DL_SYM_(f) { #f, (void **)&sw_dl_sqlite.f },
static const sw_dl_sym sqlite_syms[] = { SW_DL_SQLITE_FUNCS(SW_DL_SYM_) };
#undef SW_DL_SYM_

static const char *const sqlite_sonames[] = { "libsqlite3.so.0", NULL };

static sw_dl_lib sqlite_lib = {
    .sonames = sqlite_sonames,
    .package = "libsqlite3-0",
    .syms = sqlite_syms,
    .n_syms = sizeof sqlite_syms / sizeof sqlite_syms[0],
};

sw_err sw_dl_sqlite_load(const char **why)
{
    sw_err e = sw_dl_load(&sqlite_lib);
    if (why)
        *why = e == SW_OK ? "" : sqlite_lib.error;
    return e;
}

#endif /* SUNWIRE_HAVE_SQLITE */
