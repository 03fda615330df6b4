/*
 * health/crosscheck.h: the Tigo <-> RCT cross-check of one string.
 *
 * When a string of panels is wired to one DC input (tracker) of an RCT
 * inverter, two instruments measure the same power: the optimizers report
 * each panel's input power (the model's string aggregate sums them) and the
 * inverter reports the tracker's DC power, dc_conv.dc_conv_struct[n].p_dc.
 * The difference is the loss between the panels and the tracker (optimizer
 * conversion, cables, connectors) and is published per string as
 * health.string.<name>.dc_loss_w and .dc_loss_pct on the inverter. When the
 * two disagree beyond a noise floor for long enough, `dc_mismatch` is raised
 * on the string.
 *
 * Both readings are smoothed over a window (exponentially, by time), since
 * the panels report every 20 s and the inverter is polled on its own
 * schedule. Nothing is compared while fewer than all of the string's panels
 * report (the sum would be short) or while a panel's last report is older
 * than max_age (the sum is of another moment), and nothing is judged while
 * both powers are under the floor (dawn, dusk, night): a problem then stays
 * as it was.
 *
 * Sans-I/O: caller-given times; reads and writes only the model handed in.
 */
#ifndef SW_HEALTH_CROSSCHECK_H
#define SW_HEALTH_CROSSCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_CROSSCHECK_MAX 16
#define SW_CROSSCHECK_MAX_INPUTS 4   /* dc_conv.dc_conv_struct[0..3] */

typedef struct sw_crosscheck_config {
    double noise_pct;    /* dc_mismatch when |loss| exceeds this share of the power; default 10 % */
    double floor_w;      /* nothing judged while both powers are below; default 300 W */
    int64_t window_ns;   /* smoothing time constant; default 5 min */
    int64_t hold_ns;     /* a mismatch (and its end) must hold this long; default 15 min */
    int64_t max_age_ns;  /* a panel's last report older than this at the tracker reading: no
                            comparison; default 60 s */
} sw_crosscheck_config;

void sw_crosscheck_config_default(sw_crosscheck_config *c);

typedef struct sw_crosscheck_string {
    char string[SW_MODEL_NAME_MAX];
    char inverter[SW_MODEL_NAME_MAX];
    unsigned input;
    bool have;
    int64_t last_ns;
    double panels_w, dc_w;       /* smoothed */
    int64_t bad_since_ns, ok_since_ns;
    bool raised;
} sw_crosscheck_string;

typedef struct sw_crosscheck {
    sw_crosscheck_config cfg;
    size_t n;
    sw_crosscheck_string s[SW_CROSSCHECK_MAX];
} sw_crosscheck;

void sw_crosscheck_init(sw_crosscheck *cc, const sw_crosscheck_config *cfg);

/* Map a string to an inverter's DC input. SW_ERR_NO_SPACE when full, SW_ERR_OUT_OF_RANGE for the input. */
sw_err sw_crosscheck_add(sw_crosscheck *cc, const char *string, const char *inverter, unsigned input);

/* Whether any string is mapped to this inverter input (the poller then reads its p_dc). */
bool sw_crosscheck_wants(const sw_crosscheck *cc, const char *inverter, unsigned input);

/* "dc_conv.dc_conv_struct[N].p_dc" into out; the input number of such a name in *input (false otherwise). */
void sw_crosscheck_object(unsigned input, char *out, size_t cap);
bool sw_crosscheck_parse_object(const char *name, unsigned *input);

/*
 * The tracker's DC power of `inverter` input `input` at now_ns: compared with
 * the model's aggregate of every string mapped to it; derived values
 * published and dc_mismatch raised or cleared in m.
 */
void sw_crosscheck_dc(sw_crosscheck *cc, sw_model *m, const char *inverter, unsigned input, double p_dc_w,
                      int64_t now_ns);

#ifdef __cplusplus
}
#endif
#endif
