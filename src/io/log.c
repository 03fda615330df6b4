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
#include <sys/stat.h>
#include <time.h>

static sw_log_level current_level = SW_LOG_INFO;
static int journal_format;
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

/*
 * systemd connects a service's stderr to the journal and says so in
 * JOURNAL_STREAM=DEV:INODE. Only when stderr is still that stream (not
 * redirected by a wrapper) is the journal the reader.
 */
static int stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    if (!js || !js[0])
        return 0;
    char *end;
    unsigned long long dev = strtoull(js, &end, 10);
    if (*end != ':')
        return 0;
    unsigned long long ino = strtoull(end + 1, &end, 10);
    if (*end)
        return 0;
    struct stat st;
    if (fstat(fileno(stderr), &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void sw_log_init(sw_log_level fallback)
{
    sw_log_level l = fallback;
    if (!parse_level(getenv("SUNWIRE_LOG"), &l))
        parse_level(getenv("RUST_LOG"), &l);
    current_level = l;
    journal_format = stderr_is_journal();
}

void sw_log_set_level(sw_log_level level) { current_level = level; }
sw_log_level sw_log_get_level(void) { return current_level; }
int sw_log_enabled(sw_log_level level) { return level != SW_LOG_OFF && level <= current_level; }

void sw_vlog(sw_log_level level, const char *target, const char *fmt, va_list ap)
{
    static const char *const names[] = { "OFF", "ERROR", "WARN", "INFO", "DEBUG", "TRACE" };
    /* syslog priorities (sd-daemon.h's SD_ERR ... SD_DEBUG) the journal reads from a "<N>" prefix. */
    static const char prio[] = { '7', '3', '4', '6', '7', '7' };
    if (!sw_log_enabled(level))
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char line[4096];
    size_t n;
    /* Continuation lines are indented four spaces, as env_logger does; the
     * journal takes each line as an entry, so each gets the priority too. */
    char cont[8] = "    ";
    if (journal_format) {
        /* The journal stamps each entry itself: no time here. */
        n = (size_t)snprintf(line, sizeof line, "<%c>%-5s %s: ", prio[level], names[level], target);
        snprintf(cont, sizeof cont, "<%c>    ", prio[level]);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        n = (size_t)snprintf(line, sizeof line, "[%s %-5s %s] ", stamp, names[level], target);
    }
    size_t cont_len = strlen(cont);
    for (const char *p = msg; *p && n + cont_len + 2 < sizeof line; p++) {
        line[n++] = *p;
        if (*p == '\n' && p[1]) {
            memcpy(line + n, cont, cont_len);
            n += cont_len;
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
