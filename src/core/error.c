/* error.c: names and messages for sw_err, generated from the X-macro tables. */
#include "sunwire/error.h"

#include <stddef.h>

struct sw_err_entry {
    sw_err code;
    const char *name;
    const char *message;
};

#define SW_ERR_ROW_(name, message) { name, #name, message },
static const struct sw_err_entry sw_err_table[] = {
    { SW_OK, "SW_OK", "success" },
    SW_ERRORS_CORE(SW_ERR_ROW_)
    SW_ERRORS_IO(SW_ERR_ROW_)
    SW_ERRORS_TIGO(SW_ERR_ROW_)
    SW_ERRORS_RCT(SW_ERR_ROW_)
};
#undef SW_ERR_ROW_

static const struct sw_err_entry *sw_err_find(sw_err code)
{
    for (size_t i = 0; i < sizeof sw_err_table / sizeof sw_err_table[0]; i++)
        if (sw_err_table[i].code == code)
            return &sw_err_table[i];
    return NULL;
}

const char *sw_err_name(sw_err code)
{
    const struct sw_err_entry *e = sw_err_find(code);
    return e ? e->name : "SW_ERR_UNKNOWN";
}

const char *sw_err_message(sw_err code)
{
    const struct sw_err_entry *e = sw_err_find(code);
    return e ? e->message : "unknown error code";
}
