/*
 * log.c: stderr log lines in env_logger's layout.
 *
 * The level is process-wide on purpose: it is the user's choice for the whole
 * program, set once at start-up. Library code in src/tigo and src/rct never
 * calls this.
 */
#include "io/log.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static sw_log_level current_level = SW_LOG_INFO;
static int drop_when_blocked;
static unsigned long dropped_lines;

void sw_log_drop_when_blocked(int on) { drop_when_blocked = on; }
unsigned long sw_log_dropped(void) { return dropped_lines; }

static int parse_level(const char *s, sw_log_level *out)
{
    static const struct { const char *name; sw_log_level level; } names[] = {
        { "off", SW_LOG_OFF }, { "error", SW_LOG_ERROR }, { "warn", SW_LOG_WARN },
        { "info", SW_LOG_INFO }, { "debug", SW_LOG_DEBUG }, { "trace", SW_LOG_TRACE },
    };
    if (!s || !*s)
        return 0;
    /* RUST_LOG may hold "target=level,..." directives: take the first bare level. */
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        const char *lvl = eq ? eq + 1 : tok;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strcasecmp(lvl, names[i].name) == 0) {
                *out = names[i].level;
                return 1;
            }
        }
    }
    return 0;
}

void sw_log_init(sw_log_level fallback)
{
    sw_log_level l = fallback;
    if (!parse_level(getenv("SUNWIRE_LOG"), &l))
        parse_level(getenv("RUST_LOG"), &l);
    current_level = l;
}

void sw_log_set_level(sw_log_level level) { current_level = level; }
sw_log_level sw_log_get_level(void) { return current_level; }
int sw_log_enabled(sw_log_level level) { return level != SW_LOG_OFF && level <= current_level; }

void sw_vlog(sw_log_level level, const char *target, const char *fmt, va_list ap)
{
    static const char *const names[] = { "OFF", "ERROR", "WARN", "INFO", "DEBUG", "TRACE" };
    if (!sw_log_enabled(level))
        return;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);

    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* Continuation lines are indented four spaces, as env_logger does. */
    char line[4096];
    size_t n = (size_t)snprintf(line, sizeof line, "[%s %-5s %s] ", stamp, names[level], target);
    for (const char *p = msg; *p && n + 6 < sizeof line; p++) {
        line[n++] = *p;
        if (*p == '\n' && p[1]) {
            memcpy(line + n, "    ", 4);
            n += 4;
        }
    }
    line[n++] = '\n';
    if (drop_when_blocked) {
        /* A pipe that polls writable has room for at least a page, which a
         * line (at most 4 KiB here) fits in without blocking. */
        struct pollfd p = { .fd = fileno(stderr), .events = POLLOUT };
        if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT)) {
            dropped_lines++;
            return;
        }
    }
    fwrite(line, 1, n, stderr);
    fflush(stderr);
}

void sw_log(sw_log_level level, const char *target, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sw_vlog(level, target, fmt, ap);
    va_end(ap);
}
