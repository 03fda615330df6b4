/*
 * assets.c: serving the dashboard's files, which the build embeds into the
 * binary (web/assets -> a generated C table), so the page works offline and
 * cannot be swapped or read from disk at run time.
 *
 * The request path has already passed sw_web_path_safe; the lookup is by
 * exact name in the table, so nothing outside the table can ever be served.
 */
#include <string.h>

#include "web/web_internal.h"

const sw_web_asset *sw_web_asset_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sw_web_asset_count; i++)
        if (strcmp(sw_web_assets[i].name, name) == 0)
            return &sw_web_assets[i];
    return NULL;
}

const char *sw_web_content_type(const char *name)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        { ".html", "text/html; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },
        { ".svg", "image/svg+xml" },
        { ".json", "application/json" },
        { ".png", "image/png" },
        { ".ico", "image/x-icon" },
        { ".txt", "text/plain; charset=utf-8" },
    };
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

int sw_web_asset_handle(void *user, const sw_http_request *req, sw_http_response *resp)
{
    (void)user;
    const char *name = req->path[0] == '/' ? req->path + 1 : req->path;
    if (*name == '\0')
        name = "index.html";
    const sw_web_asset *a = sw_web_asset_find(name);
    if (!a) {
        resp->status = 404;
        resp->cache_control = "no-store";
        return sw_http_set_body(resp, "text/plain; charset=utf-8", "not found\n", 10) == SW_OK ? 0 : -1;
    }
    resp->status = 200;
    /* The page itself is always re-checked so a new binary's scripts are picked up at once. */
    resp->cache_control = strcmp(name, "index.html") == 0 ? "no-cache" : "public, max-age=300";
    return sw_http_set_body(resp, sw_web_content_type(name), (const char *)a->data, a->len) == SW_OK ? 0 : -1;
}
