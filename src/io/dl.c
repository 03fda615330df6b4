/* dl.c: resolve optional libraries at first use (see dl.h). */
#include "io/dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

sw_err sw_dl_load(sw_dl_lib *lib)
{
    if (lib->state == 1)
        return SW_OK;
    if (lib->state == -1)
        return SW_ERR_UNSUPPORTED;
    void *h = NULL;
    for (const char *const *name = lib->sonames; *name && !h; name++)
        h = dlopen(*name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(lib->error, sizeof lib->error, "%s is not installed (install the Debian package %s)",
                 lib->sonames[0], lib->package);
        lib->state = -1;
        return SW_ERR_UNSUPPORTED;
    }
    for (size_t i = 0; i < lib->n_syms; i++) {
        void *p = dlsym(h, lib->syms[i].name);
        if (!p) {
            snprintf(lib->error, sizeof lib->error, "%s lacks %s (too old? install a current %s)",
                     lib->sonames[0], lib->syms[i].name, lib->package);
            dlclose(h);
            lib->state = -1;
            return SW_ERR_UNSUPPORTED;
        }
        *lib->syms[i].slot = p;
    }
    lib->handle = h;
    lib->state = 1;
    return SW_OK;
}
