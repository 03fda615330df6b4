/*
 * cmd_tigo.c: the Tigo command group (taptap drop-in): dispatch, help texts,
 * and the source loop every bus-reading subcommand shares.
 *
 * Trusts tigo_args for the shape of the command line and the I/O layer for
 * bytes; decides only what the user sees: exit codes, help, progress.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/tigo_cli.h"
#include "cli/tigo_sim.h"
#include "io/io_source.h"
#include "io/log.h"
#include "io/net.h"
#include "io/stop_signals.h"
#include "sunwire/loop.h"
#include "sunwire/tigo_redact.h"
#include "sunwire_config.h"

/* ---- output -------------------------------------------------------------- */

/*
 * The stop signals are installed without SA_RESTART (a blocking read must
 * return), so a signal can also interrupt a write to stdout: EINTR is not a
 * failure, the rest is written again.
 */
static int put_rest(const char *p, size_t len, bool flush)
{
    size_t done = 0;
    for (int tries = 0;; tries++) {
        if (done < len)
            done += fwrite(p + done, 1, len - done, stdout);
        if (done == len && (!flush || fflush(stdout) == 0))
            return 0;
        if (errno != EINTR || tries > 100)
            return -1;
        clearerr(stdout);
    }
}

static int flush_out(void) { return put_rest("", 0, true); }

int tigo_emit_bytes(tigo_cli *cli, const void *data, size_t len)
{
    if (cli->out_failed)
        return -1;
    if (put_rest(data, len, true) != 0) {
        cli->out_failed = errno ? errno : EPIPE;
        return -1;
    }
    return 0;
}

int tigo_emit_line(tigo_cli *cli, const char *text, size_t len)
{
    if (cli->out_failed)
        return -1;
    /* Single-threaded: the unlocked stdio calls skip a lock per line. */
    size_t w = len ? fwrite_unlocked(text, 1, len, stdout) : 0;
    bool nl = w == len && putc_unlocked('\n', stdout) != EOF;
    if (nl && (cli->in_chunk || fflush(stdout) == 0))
        return 0;
    if (errno == EINTR) {
        clearerr(stdout);
        if (put_rest(text + w, len - w, false) == 0 && (nl || put_rest("\n", 1, false) == 0) &&
            (cli->in_chunk || flush_out() == 0))
            return 0;
    }
    cli->out_failed = errno ? errno : EPIPE;
    return -1;
}

int tigo_buffer_reserve(tigo_cli *cli, uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    uint8_t *nb = realloc(*buf, need);
    if (!nb) {
        SW_LOGE(cli->log_target, "out of memory");
        return -1;
    }
    *buf = nb;
    *cap = need;
    return 0;
}

/* ---- the source loop ------------------------------------------------------- */

typedef struct run_ctx {
    tigo_cli *cli;
    tigo_bytes_cb on_bytes;
    void *ctx;
    sw_source *src;
    bool progress;
    int64_t next_progress_ns;
    /* The radio key is zeroed before a subcommand sees the bytes (unless --no-redact). */
    sw_tigo_redactor *redactor;
    uint8_t *redacted;
    size_t redacted_cap;
    int64_t last_ns;
} run_ctx;

static int hand_on(run_ctx *r, const uint8_t *data, size_t n, int64_t unix_ns);

/* The subcommand gets the bytes with the radio key zeroed. */
static int run_on_bytes_redacted(run_ctx *r, const uint8_t *data, size_t n, int64_t unix_ns)
{
    if (tigo_buffer_reserve(r->cli, &r->redacted, &r->redacted_cap, SW_TIGO_REDACTOR_OUT_MAX(n)) != 0)
        return 1;
    size_t w = 0;
    if (sw_tigo_redactor_push(r->redactor, data, n, r->redacted, r->redacted_cap, &w) != SW_OK)
        return 1;
    r->last_ns = unix_ns;
    return w ? hand_on(r, r->redacted, w, unix_ns) : 0;
}

static int run_on_bytes(void *p, const uint8_t *data, size_t n, int64_t unix_ns)
{
    run_ctx *r = p;
    if (r->redactor)
        return run_on_bytes_redacted(r, data, n, unix_ns);
    return hand_on(r, data, n, unix_ns);
}

static int hand_on(run_ctx *r, const uint8_t *data, size_t n, int64_t unix_ns)
{
    if (r->progress) {
        int64_t now = sw_now_monotonic_ns();
        if (now >= r->next_progress_ns) {
            double f = sw_source_progress(r->src);
            if (f >= 0)
                fprintf(stderr, "\rreplaying: %5.1f%% ", f * 100.0);
            r->next_progress_ns = now + 250000000;
        }
    }
    /* Every line a chunk produces is complete once the chunk is decoded, so
     * flushing here is as prompt as line buffering for a live reader (nothing
     * waits for the next read) at a fraction of the write calls. */
    r->cli->in_chunk = true;
    int stop = r->on_bytes(r->ctx, data, n, unix_ns);
    r->cli->in_chunk = false;
    if (flush_out() != 0 && !r->cli->out_failed)
        r->cli->out_failed = errno ? errno : EPIPE;
    /* A signal stops a run busy with a file at once, after the chunk it
     * interrupted: a write it interrupted may have lost that chunk's output,
     * so no later output may follow. */
    if (stop || sw_stop_signals_caught())
        return 1;
    return r->cli->out_failed ? 1 : 0;
}

int tigo_run(tigo_cli *cli, tigo_bytes_cb on_bytes, void *ctx)
{
    const tigo_args *a = cli->args;
    sw_source_config cfg = { 0 };
    if (a->serial) {
        cfg.medium = SW_SOURCE_MEDIUM_SERIAL;
        cfg.path = a->serial;
    } else if (a->tcp) {
        cfg.medium = SW_SOURCE_MEDIUM_TCP;
        cfg.host = a->tcp;
        cfg.port = a->port;
        /* Linux caps these far below INT_MAX; an absurd value fails in setsockopt and is logged. */
        cfg.keepalive_idle_s = a->keepalive_idle > 0x7FFFFFFF ? 0x7FFFFFFF : (int)a->keepalive_idle;
        cfg.keepalive_interval_s = a->keepalive_interval > 0x7FFFFFFF ? 0x7FFFFFFF : (int)a->keepalive_interval;
        cfg.keepalive_count = a->keepalive_count > 0x7FFFFFFF ? 0x7FFFFFFF : (int)a->keepalive_count;
    } else {
        cfg.medium = SW_SOURCE_MEDIUM_FILE;
        cfg.path = a->file;
        cfg.realtime = a->realtime;
        cfg.speed = a->speed;
    }
    sw_source src;
    if (sw_source_init(&src, &cfg) != SW_OK) {
        SW_LOGE(cli->log_target, "invalid source");
        return 2;
    }
    if (cfg.medium == SW_SOURCE_MEDIUM_TCP)
        SW_LOGD(cli->log_target, "tcp keepalive: idle %d s, interval %d s, %d probes", cfg.keepalive_idle_s,
                cfg.keepalive_interval_s, cfg.keepalive_count);

    /* A stop signal wakes the loop wherever it waits. Not SA_RESTART: a write
     * blocked on a full stdout must return too (put_rest finishes it). */
    sw_loop *loop = sw_loop_new();
    if (!loop || sw_stop_signals_watch(loop, false) != SW_OK) {
        SW_LOGE(cli->log_target, "cannot start the event loop: %s", strerror(errno));
        sw_loop_free(loop);
        return 1;
    }

    run_ctx r = { .cli = cli, .on_bytes = on_bytes, .ctx = ctx, .src = &src };
    sw_tigo_redactor redactor;
    if (!a->no_redact && a->cmd != TIGO_CMD_OBSERVE) {
        sw_tigo_redactor_init(&redactor);
        r.redactor = &redactor;
    }
    r.progress = cfg.medium == SW_SOURCE_MEDIUM_FILE && isatty(STDERR_FILENO) && sw_log_enabled(SW_LOG_ERROR);
    sw_run_options opt = {
        .reconnect_timeout_s = a->reconnect_timeout,
        .reconnect_retry = a->reconnect_retry,
        .reconnect_delay_s = a->reconnect_delay,
        .log_target = cli->log_target,
        .on_bytes = run_on_bytes,
        .ctx = &r,
    };
    sw_run_result res = sw_source_run(&src, loop, &opt);
    if (r.redactor) {
        /* A frame cut short by the end of the input: what is left of it, key zeroed. */
        uint8_t tail[SW_TIGO_REDACTOR_SLACK];
        size_t w = 0;
        if (sw_tigo_redactor_finish(r.redactor, tail, sizeof tail, &w) == SW_OK && w && !cli->out_failed)
            hand_on(&r, tail, w, r.last_ns);
        if (r.redactor->counters.frames)
            SW_LOGI(cli->log_target, "zeroed the radio network key in %llu frame%s (--no-redact keeps it)",
                    (unsigned long long)r.redactor->counters.frames, r.redactor->counters.frames == 1 ? "" : "s");
        free(r.redacted);
    }
    sw_stop_signals_unwatch(loop);
    sw_loop_free(loop);
    if (r.progress)
        fputs("\r                  \r", stderr);
    if (cli->out_failed) {
        SW_LOGE(cli->log_target, "cannot write to standard output: %s", strerror(cli->out_failed));
        return 1;
    }
    switch (res) {
    case SW_RUN_EOF:
        return 0;
    case SW_RUN_STOPPED:
        return 0;
    case SW_RUN_OPEN_FAILED:
        return 2;
    case SW_RUN_IDLE_EXCEEDED:
        return 3;
    case SW_RUN_INPUT_ERROR:
        return 1;
    }
    return 1;
}

/* ---- help ------------------------------------------------------------------ */

static void source_help(FILE *out)
{
    fputs("Source (exactly one):\n"
          "      --serial <SERIAL-PORT>       serial device of an RS-485 adapter (read-only, 38400 8N1)\n"
          "      --tcp <DESTINATION>          host of a serial-over-TCP converter\n"
          "      --file <PATH>                replay a capture (pcapng) or raw byte file; - = stdin\n"
          "\n"
          "Options:\n"
          "      --port <PORT NUMBER>         TCP port (with --tcp) [default: 502]\n"
          "      --reconnect-timeout <SECONDS> reconnect a TCP session silent this long; 0 = never [default: 60]\n"
          "      --reconnect-retry <INT>      give up after this many failed attempts; 0 = never [default: 0]\n"
          "      --reconnect-delay <SECONDS>  pause before each reconnect [default: 5]\n"
          "      --keepalive-idle <SECONDS>   TCP keepalive idle time (with --tcp) [default: 30]\n"
          "      --keepalive-interval <SECONDS> TCP keepalive probe interval (with --tcp) [default: 10]\n"
          "      --keepalive-count <SECONDS>  TCP keepalive probe count (with --tcp) [default: 5]\n"
          "      --realtime                   replay a capture at its recorded pace (with --file)\n"
          "      --speed <FACTOR>             replay that many times faster; implies --realtime (with --file)\n",
          out);
}

static void redact_help(FILE *out)
{
    fputs("      --no-redact                  keep the radio network key of gateway radio configuration\n"
          "                                   responses (zeroed by default, CRC recomputed)\n",
          out);
}

static void print_help(FILE *out, const char *prog, sw_persona persona, tigo_cmd cmd)
{
    switch (cmd) {
    case TIGO_CMD_NONE:
    case TIGO_CMD_HELP:
        fprintf(out,
                "%s\n"
                "\n"
                "Usage: %s <COMMAND>\n"
                "\n"
                "Commands:\n"
                "  list-serial-ports  List serial ports that could carry a Tigo bus\n"
                "  observe            Report every optimizer's power data as JSON lines\n"
                "  peek-bytes         Show the raw bytes on the bus\n"
                "  peek-frames        Show every valid gateway link frame\n"
                "  peek-activity      Show gateway and PV network events\n"
                "  record             Write what a source delivers to a capture file (pcapng)\n"
                "  simulate           Generate a simulated bus: TCP server, pseudo-terminal or file\n"
                "  help               Print this message or the help of the given subcommand(s)\n"
                "\n"
                "Options:\n"
                "  -h, --help     Print help\n"
                "  -V, --version  Print version\n",
                persona == SW_PERSONA_TAPTAP ? "Passive listener for the Tigo TAP RS-485 gateway bus (sunwire)"
                                             : "sunwire tigo: passive listener for the Tigo TAP RS-485 gateway bus",
                prog);
        return;
    case TIGO_CMD_LIST_SERIAL_PORTS:
        fprintf(out, "List serial ports that could carry a Tigo bus\n\nUsage: %s list-serial-ports\n\n"
                     "Options:\n  -h, --help     Print help\n  -V, --version  Print version\n", prog);
        return;
    case TIGO_CMD_OBSERVE:
        fprintf(out, "Report every optimizer's power data as JSON lines on stdout\n\n"
                     "Usage: %s observe [OPTIONS] <--serial <SERIAL-PORT>|--tcp <DESTINATION>|--file <PATH>>\n\n", prog);
        source_help(out);
        fputs("      --persistent-file <FILE>     keep gateway and node identities in this JSON file\n"
              "                                   [alias: --state-file]\n"
              "      --format <FORMAT>            fork: taptap 0.2.0 lines; upstream: taptap 0.1.1 lines\n"
              "                                   [default: fork] [possible values: fork, upstream]\n"
              "      --reference                  reproduce taptap's output byte for byte (duplicate and\n"
              "                                   unchanged infrastructure reports, reference decoders)\n",
              out);
        break;
    case TIGO_CMD_PEEK_BYTES:
        fprintf(out, "Show the raw bytes on the bus, one line per frame\n\n"
                     "Usage: %s peek-bytes [OPTIONS] <--serial <SERIAL-PORT>|--tcp <DESTINATION>|--file <PATH>>\n\n", prog);
        source_help(out);
        fputs("      --raw                        write the bytes unchanged instead of as hex\n", out);
        redact_help(out);
        break;
    case TIGO_CMD_PEEK_FRAMES:
    case TIGO_CMD_PEEK_ACTIVITY:
        fprintf(out, "%s\n\nUsage: %s %s [OPTIONS] <--serial <SERIAL-PORT>|--tcp <DESTINATION>|--file <PATH>>\n\n",
                cmd == TIGO_CMD_PEEK_FRAMES ? "Show every valid gateway link frame" : "Show gateway and PV network events",
                prog, tigo_cmd_name(cmd));
        source_help(out);
        fputs("      --json                       one JSON object per line on stdout\n", out);
        redact_help(out);
        break;
    case TIGO_CMD_RECORD:
        fprintf(out, "Write what a source delivers to a capture file (pcapng, raw serial bytes)\n\n"
                     "Usage: %s record [OPTIONS] --out <FILE> <--serial <SERIAL-PORT>|--tcp <DESTINATION>|--file <PATH>>\n\n",
                prog);
        source_help(out);
        fputs("      --out <FILE>                 capture file to write (- = stdout)\n", out);
        redact_help(out);
        break;
    }
    fputs("  -h, --help                       Print help\n  -V, --version                    Print version\n", out);
}

int sw_cli_tigo(int argc, char **argv, const char *prog, sw_persona persona)
{
    /* The simulator has its own options; it shares nothing with the source flags. */
    if (argc >= 2 && strcmp(argv[1], "simulate") == 0)
        return sw_cli_tigo_simulate(argc - 1, argv + 1, prog);
    tigo_args a;
    tigo_args_parse(argc, argv, prog, persona, &a);
    switch (a.action) {
    case TIGO_ACTION_HELP:
        print_help(stdout, prog, persona, a.help_cmd);
        return fflush(stdout) == 0 ? 0 : 1;
    case TIGO_ACTION_VERSION:
        if (persona == SW_PERSONA_TAPTAP)
            printf("taptap 0.2.0\n");
        else
            printf("sunwire %s\n", SUNWIRE_VERSION);
        return fflush(stdout) == 0 ? 0 : 1;
    case TIGO_ACTION_USAGE_ERROR:
        if (a.error[0])
            fputs(a.error, stderr);
        else
            print_help(stderr, prog, persona, TIGO_CMD_NONE);
        return 2;
    case TIGO_ACTION_RUN:
        break;
    }

    sw_log_init(SW_LOG_INFO);
    /*
     * taptap-mqtt pipes our stderr and never reads it: once the pipe is full a
     * blocking write would freeze the observer for good. Dropping log lines
     * when a pipe is full is the lesser evil; terminals and files are untouched.
     * (Not O_NONBLOCK: with 2>&1 stdout shares that file description, and
     * JSON lines must never be dropped.)
     */
    struct stat st;
    if (fstat(STDERR_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        sw_log_drop_when_blocked(1);
    if (a.cmd != TIGO_CMD_LIST_SERIAL_PORTS) {
        /* Output is flushed once per read (run_on_bytes), so the stdio buffer
         * has to hold what one read produces: a 64 KiB read of a busy TCP
         * replay makes a few hundred KiB of JSON. Pages a read's output never
         * reaches are never touched, so a live bus pays nothing for the size.
         * Set before anything is written, as stdio requires. */
        static char out_buf[512 * 1024];
        setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    }
    tigo_cli cli = {
        .args = &a,
        .prog = prog,
        .persona = persona,
        .log_target = persona == SW_PERSONA_TAPTAP ? "taptap" : "sunwire::tigo",
    };
    switch (a.cmd) {
    case TIGO_CMD_LIST_SERIAL_PORTS: return tigo_cmd_list_serial_ports(&cli);
    case TIGO_CMD_OBSERVE: return tigo_cmd_observe(&cli);
    case TIGO_CMD_PEEK_BYTES: return tigo_cmd_peek_bytes(&cli);
    case TIGO_CMD_PEEK_FRAMES: return tigo_cmd_peek_frames(&cli);
    case TIGO_CMD_PEEK_ACTIVITY: return tigo_cmd_peek_activity(&cli);
    case TIGO_CMD_RECORD: return tigo_cmd_record(&cli);
    case TIGO_CMD_NONE:
    case TIGO_CMD_HELP:
        break;
    }
    return 2;
}
