/*
 * io/log.h: log lines on stderr for the program and the I/O edges.
 *
 * The protocol core never logs; it returns codes and events. The format is the
 * one taptap users already parse: "[2025-11-07T13:48:41Z INFO  taptap] text".
 * The level comes from SUNWIRE_LOG, or RUST_LOG (what taptap users set), with
 * the values error, warn, info, debug, trace or off.
 */
#ifndef SUNWIRE_LOG_H
#define SUNWIRE_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_log_level {
    SW_LOG_OFF = 0,
    SW_LOG_ERROR,
    SW_LOG_WARN,
    SW_LOG_INFO,
    SW_LOG_DEBUG,
    SW_LOG_TRACE
} sw_log_level;

/*
 * Read the level from the environment, falling back to `fallback`. When
 * JOURNAL_STREAM names stderr (systemd connected it to the journal), lines
 * are written for the journal instead: "<6>INFO  target: text", the "<N>"
 * priority of sd-daemon(3) and no time stamp, since the journal adds its own.
 */
void sw_log_init(sw_log_level fallback);
void sw_log_set_level(sw_log_level level);
/*
 * When on, a log line is dropped (and counted) instead of written if stderr
 * cannot take it without blocking: for a parent that pipes our stderr and
 * never reads it. Unlike O_NONBLOCK this leaves the file description alone,
 * which stdout may share (2>&1).
 */
void sw_log_drop_when_blocked(int on);
unsigned long sw_log_dropped(void);
sw_log_level sw_log_get_level(void);
int sw_log_enabled(sw_log_level level);

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void sw_log(sw_log_level level, const char *target, const char *fmt, ...);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 0)))
#endif
void sw_vlog(sw_log_level level, const char *target, const char *fmt, va_list ap);

#define SW_LOGE(target, ...) sw_log(SW_LOG_ERROR, target, __VA_ARGS__)
#define SW_LOGW(target, ...) sw_log(SW_LOG_WARN, target, __VA_ARGS__)
#define SW_LOGI(target, ...) sw_log(SW_LOG_INFO, target, __VA_ARGS__)
#define SW_LOGD(target, ...) sw_log(SW_LOG_DEBUG, target, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
