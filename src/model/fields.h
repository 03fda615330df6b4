/*
 * model/fields.h: every record's fields, declared once.
 *
 * Each table row names one member of a model record and says what every
 * output makes of it:
 *
 *   X(member, TYPE, unit, flags, meaning, KEYS, PROM, HA)
 *
 *   member   the C member of the record (sw_panel, sw_string_agg, ...)
 *   TYPE     SW_FT_* below; tells the generic readers the member's C type
 *   unit     SI unit of the value as stored ("" for none)
 *   flags    SW_FF_* below
 *   meaning  one sentence; Prometheus HELP text for fields that have a metric
 *   KEYS(json, mqtt, api, influx, sql)
 *            the name of the field in the daemon's JSON lines, the MQTT state
 *            payload (also the Home Assistant entity key), the web API, the
 *            InfluxDB line and the SQLite history column; NULL = that output
 *            does not carry it. History columns follow table order after
 *            the row's time (ts_ns); a new history column also needs a
 *            schema migration (SW_HISTORY_SCHEMA_VERSION: bump it, and
 *            sw_history_open adds the column to older files)
 *   PROM(metric, type)
 *            Prometheus metric family (NULL = none) and its type. The
 *            metric is in base units (docs/prometheus.md): the renderer
 *            converts the row's unit (Wh becomes joules, % a 0-1 ratio),
 *            so the name says the base unit (_joules_total, _ratio)
 *   HA(name, device_class, unit, state_class, category, icon, precision, scale)
 *            the Home Assistant sensor (name NULL = none); scale multiplies
 *            the MQTT state value (a duty cycle 0..1 is published in %)
 *
 * Outputs iterate the descriptor arrays derived below (sw_panel_fields, ...)
 * instead of naming members, in table order. Adding a field to a record is
 * one row here (plus the member in model.h and its tests).
 */
#ifndef SW_MODEL_FIELDS_H
#define SW_MODEL_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_field_type {
    SW_FT_TEXT = 1, /* char[N], NUL-terminated */
    SW_FT_BOOL,     /* bool */
    SW_FT_U16,      /* uint16_t */
    SW_FT_U32,      /* uint32_t */
    SW_FT_UINT,     /* unsigned */
    SW_FT_U64,      /* uint64_t */
    SW_FT_INT,      /* int */
    SW_FT_DOUBLE,   /* double */
    SW_FT_TIME,     /* int64_t Unix ns, 0 = never */
    SW_FT_KIND      /* sw_source_kind */
} sw_field_type;

enum sw_field_flags {
    SW_FF_ID = 1u << 0,        /* identity: a tag/label, not a measurement */
    SW_FF_COUNTER = 1u << 1,   /* only ever grows */
    SW_FF_REPORTED = 1u << 2,  /* meaningless until the record's first report */
    SW_FF_NIGHT_ZERO = 1u << 3, /* set to 0 when a panel goes offline in night = zero mode; else kept */
    SW_FF_LIVE = 1u << 4,       /* an instantaneous reading, stale once the record is offline; the other
                                 * fields (counters, last report) stay valid and available */
    SW_FF_DETAIL = 1u << 5      /* a string statistic: HA leaves it out when all would not fit in one message */
};

typedef struct sw_field_keys {
    const char *json, *mqtt, *api, *influx, *sql;
} sw_field_keys;

typedef struct sw_field_prom {
    const char *metric, *type;
} sw_field_prom;

typedef struct sw_field_ha {
    const char *name, *device_class, *unit, *state_class, *category, *icon;
    int precision; /* suggested display precision, -1 = none */
    double scale;  /* of the MQTT state value */
} sw_field_ha;

/* One field of one record, derived from the tables. */
typedef struct sw_field {
    const char *member;
    sw_field_type type;
    size_t offset;
    size_t size;
    const char *unit;
    unsigned flags;
    const char *meaning;
    sw_field_keys key;
    sw_field_prom prom;
    sw_field_ha ha;
} sw_field;

#define SW_KEYS(json, mqtt, api, influx, sql) {json, mqtt, api, influx, sql}
#define SW_PROM(metric, type) {metric, type}
#define SW_NO_PROM {NULL, NULL}
#define SW_HA(name, dc, unit, sc, cat, icon, prec, scale) {name, dc, unit, sc, cat, icon, prec, scale}
#define SW_NO_HA {NULL, NULL, NULL, NULL, NULL, NULL, -1, 1.0}
#define SW_DIAG "diagnostic"

/* ---- sw_panel ------------------------------------------------------------------------------ */
#define SW_PANEL_FIELDS(X)                                                                                     \
    X(source, SW_FT_TEXT, "", SW_FF_ID, "Configured name of the Tigo bus the panel is on.",                    \
      SW_KEYS("source", "source", "source", "source", "source"), SW_NO_PROM, SW_NO_HA)                          \
    X(gateway_id, SW_FT_U16, "", SW_FF_ID, "Tigo gateway the optimizer reports through.",                      \
      SW_KEYS("gateway", "gateway", "gateway_id", "gateway", "gateway_id"), SW_NO_PROM, SW_NO_HA)                  \
    X(node_id, SW_FT_U16, "", SW_FF_ID, "Node number of the optimizer at its gateway.",                        \
      SW_KEYS("node", "node", "node_id", "node", "node_id"), SW_NO_PROM, SW_NO_HA)                                 \
    X(barcode, SW_FT_TEXT, "", SW_FF_ID, "Optimizer barcode, empty until the node table is known.",           \
      SW_KEYS("barcode", "barcode", "barcode", "barcode", "barcode"), SW_NO_PROM, SW_NO_HA)                     \
    X(name, SW_FT_TEXT, "", SW_FF_ID, "Panel name from the panel map, else the barcode, else gateway-node.",   \
      SW_KEYS("name", "name", "name", "panel", "panel"), SW_NO_PROM, SW_NO_HA)                                  \
    X(string_name, SW_FT_TEXT, "", SW_FF_ID, "String the panel map puts the panel in, empty when none.",      \
      SW_KEYS("string", "string", "string", "string", "string"), SW_NO_PROM, SW_NO_HA)                          \
    X(mapped, SW_FT_BOOL, "", SW_FF_ID, "The barcode is in the configured panel map.",                         \
      SW_KEYS(NULL, NULL, "mapped", NULL, NULL), SW_NO_PROM, SW_NO_HA)                                          \
    X(voltage_in, SW_FT_DOUBLE, "V", SW_FF_REPORTED | SW_FF_LIVE | SW_FF_NIGHT_ZERO,                            \
      "Optimizer input voltage (the panel's voltage).",                                                        \
      SW_KEYS("voltage_in", "voltage_in", "voltage_in", "voltage_in", "voltage_in"),                            \
      SW_PROM("sunwire_panel_input_volts", "gauge"),                                                            \
      SW_HA("Input voltage", "voltage", "V", "measurement", NULL, NULL, 2, 1.0))                                \
    X(voltage_out, SW_FT_DOUBLE, "V", SW_FF_REPORTED | SW_FF_LIVE | SW_FF_NIGHT_ZERO,                           \
      "Optimizer output voltage.",                                                                              \
      SW_KEYS("voltage_out", "voltage_out", "voltage_out", "voltage_out", "voltage_out"),                       \
      SW_PROM("sunwire_panel_output_volts", "gauge"),                                                           \
      SW_HA("Output voltage", "voltage", "V", "measurement", NULL, NULL, 2, 1.0))                               \
    X(current_in, SW_FT_DOUBLE, "A", SW_FF_REPORTED | SW_FF_LIVE | SW_FF_NIGHT_ZERO,                            \
      "Optimizer input current.",                                                                               \
      SW_KEYS("current_in", "current_in", "current_in", "current_in", "current_in"),                            \
      SW_PROM("sunwire_panel_input_amperes", "gauge"),                                                          \
      SW_HA("Input current", "current", "A", "measurement", NULL, NULL, 3, 1.0))                                \
    X(power_w, SW_FT_DOUBLE, "W", SW_FF_REPORTED | SW_FF_LIVE | SW_FF_NIGHT_ZERO,                               \
      "Panel power (input voltage times input current).",                                                      \
      SW_KEYS("power", "power", "power_w", "power", "power_w"), SW_PROM("sunwire_panel_power_watts", "gauge"),   \
      SW_HA("Power", "power", "W", "measurement", NULL, NULL, 1, 1.0))                                          \
    X(duty_cycle, SW_FT_DOUBLE, "", SW_FF_REPORTED | SW_FF_LIVE | SW_FF_NIGHT_ZERO,                             \
      "Optimizer duty cycle, 0 to 1.",                                                                          \
      SW_KEYS("duty_cycle", "duty_cycle", "duty_cycle", "duty_cycle", "duty_cycle"),                            \
      SW_PROM("sunwire_panel_duty_cycle_ratio", "gauge"),                                                       \
      SW_HA("Duty cycle", NULL, "%", "measurement", SW_DIAG, "mdi:sine-wave", 0, 100.0))                        \
    X(temperature_c, SW_FT_DOUBLE, "\xC2\xB0" "C", SW_FF_REPORTED | SW_FF_LIVE, "Optimizer temperature.",       \
      SW_KEYS("temperature", "temperature", "temperature_c", "temperature", "temperature_c"),                     \
      SW_PROM("sunwire_panel_temperature_celsius", "gauge"),                                                    \
      SW_HA("Temperature", "temperature", "\xC2\xB0" "C", "measurement", NULL, NULL, 1, 1.0))                   \
    X(rssi, SW_FT_INT, "", SW_FF_REPORTED | SW_FF_LIVE,                                                         \
      "Received signal strength of the optimizer at the gateway (raw, 0 to 255).",                             \
      SW_KEYS("rssi", "rssi", "rssi", "rssi", "rssi"), SW_PROM("sunwire_panel_rssi", "gauge"),                  \
      SW_HA("Signal", NULL, NULL, "measurement", SW_DIAG, "mdi:signal", 0, 1.0))                               \
    X(energy_total_wh, SW_FT_DOUBLE, "Wh", SW_FF_REPORTED | SW_FF_COUNTER,                                     \
      "Lifetime energy integrated from the power reports.",                                                    \
      SW_KEYS("energy_total_wh", "energy_total", "energy_total_wh", "energy_total_wh", "energy_total_wh"),      \
      SW_PROM("sunwire_panel_energy_joules_total", "counter"),                                                  \
      SW_HA("Energy", "energy", "Wh", "total_increasing", NULL, NULL, 0, 1.0))                                  \
    X(energy_today_wh, SW_FT_DOUBLE, "Wh", SW_FF_REPORTED, "Energy since local midnight.",                    \
      SW_KEYS("energy_today_wh", "energy_today", "energy_today_wh", "energy_today_wh", "energy_today_wh"),      \
      SW_PROM("sunwire_panel_energy_today_joules", "gauge"),                                                    \
      SW_HA("Energy today", "energy", "Wh", "total_increasing", NULL, NULL, 0, 1.0))                            \
    X(performance, SW_FT_DOUBLE, "", SW_FF_REPORTED,                                                            \
      "Daily performance index: today's energy over the median of its peers' (1 = like its peers).",          \
      SW_KEYS("performance", "performance", "performance", "performance", NULL),                               \
      SW_PROM("sunwire_panel_performance_ratio", "gauge"),                                                      \
      SW_HA("Performance", NULL, "%", "measurement", SW_DIAG, "mdi:scale-balance", 0, 100.0))                  \
    X(online, SW_FT_BOOL, "", 0, "1 while the panel reports, 0 once it fell silent.",                          \
      SW_KEYS("online", "online", "online", "online", "online"), SW_PROM("sunwire_panel_online", "gauge"),      \
      SW_NO_HA)                                                                                                \
    X(last_seen_ns, SW_FT_TIME, "s", SW_FF_REPORTED, "Measurement time of the last report.",                  \
      SW_KEYS("time_ns", "last_seen", "last_seen", NULL, NULL),                                              \
      SW_PROM("sunwire_panel_last_report_timestamp_seconds", "gauge"),                                          \
      SW_HA("Last report", "timestamp", NULL, NULL, SW_DIAG, NULL, -1, 1.0))                                   \
    X(loss_15m, SW_FT_DOUBLE, "", SW_FF_REPORTED | SW_FF_LIVE,                                                  \
      "Share of the optimizer's expected power reports lost over the last 15 minutes, 0 to 1.",                 \
      SW_KEYS("loss_15m", "loss_15m", "loss_15m", "loss_15m", "loss_15m"),                                      \
      SW_PROM("sunwire_panel_report_loss_15m_ratio", "gauge"),                                                  \
      SW_HA("Report loss 15 min", NULL, "%", "measurement", SW_DIAG, "mdi:access-point-network-off", 0, 100.0)) \
    X(loss_day, SW_FT_DOUBLE, "", SW_FF_REPORTED | SW_FF_LIVE,                                                  \
      "Share of the optimizer's expected power reports lost over the last 24 hours, 0 to 1.",                   \
      SW_KEYS("loss_day", "loss_day", "loss_day", "loss_day", "loss_day"),                                      \
      SW_PROM("sunwire_panel_report_loss_day_ratio", "gauge"),                                                  \
      SW_HA("Report loss 24 h", NULL, "%", "measurement", SW_DIAG, "mdi:access-point-network-off", 0, 100.0))   \
    X(rssi_trend, SW_FT_DOUBLE, "", SW_FF_REPORTED | SW_FF_LIVE,                                                \
      "Signal trend: the 15-minute mean RSSI minus the 24-hour mean (raw; negative = falling).",                \
      SW_KEYS("rssi_trend", "rssi_trend", "rssi_trend", "rssi_trend", "rssi_trend"),                            \
      SW_PROM("sunwire_panel_rssi_trend", "gauge"),                                                             \
      SW_HA("Signal trend", NULL, NULL, "measurement", SW_DIAG, "mdi:signal-variant", 0, 1.0))                  \
    X(next_hop, SW_FT_INT, "", SW_FF_REPORTED | SW_FF_LIVE,                                                     \
      "Node the optimizer's radio reaches the gateway through (1 = the gateway itself, 0 = unknown).",          \
      SW_KEYS("next_hop", "next_hop", "next_hop", "next_hop", "next_hop"),                                      \
      SW_PROM("sunwire_panel_next_hop", "gauge"),                                                               \
      SW_HA("Next hop", NULL, NULL, NULL, SW_DIAG, "mdi:transit-connection-variant", 0, 1.0))

/* ---- sw_string_agg (a string's aggregate; "total" is all panels) ------------------------------ */
#define SW_STRING_FIELDS(X)                                                                                    \
    X(name, SW_FT_TEXT, "", SW_FF_ID, "String name from the panel map; \"total\" for all panels.",             \
      SW_KEYS("name", "name", "name", "string", "string"), SW_NO_PROM, SW_NO_HA)                                \
    X(panels, SW_FT_UINT, "", 0, "Panels assigned to the string (\"total\": all panels).",                    \
      SW_KEYS("panels", "panels", "panels", "panels", "panels"), SW_PROM("sunwire_string_panels", "gauge"),     \
      SW_NO_HA)                                                                                                \
    X(online, SW_FT_UINT, "", 0, "Panels of the string that are reporting.",                                   \
      SW_KEYS("online", "online", "online", "online", "online"),                                                \
      SW_PROM("sunwire_string_panels_online", "gauge"),                                                         \
      SW_HA("panels online", NULL, NULL, "measurement", SW_DIAG, "mdi:solar-panel", 0, 1.0))                    \
    X(power_sum_w, SW_FT_DOUBLE, "W", 0, "Sum of the power of the string's online panels.",                   \
      SW_KEYS("power_sum", "power", "power_w", "power_sum", "power_sum_w"),                                       \
      SW_PROM("sunwire_string_power_watts", "gauge"),                                                           \
      SW_HA("power", "power", "W", "measurement", NULL, NULL, 1, 1.0))                                          \
    X(power_min_w, SW_FT_DOUBLE, "W", 0, "Lowest panel power in the string.",                                  \
      SW_KEYS("power_min", "power_min", "power_min_w", "power_min", "power_min_w"),                               \
      SW_PROM("sunwire_string_panel_power_min_watts", "gauge"), SW_NO_HA)                                       \
    X(power_max_w, SW_FT_DOUBLE, "W", 0, "Highest panel power in the string.",                                 \
      SW_KEYS("power_max", "power_max", "power_max_w", "power_max", "power_max_w"),                               \
      SW_PROM("sunwire_string_panel_power_max_watts", "gauge"), SW_NO_HA)                                       \
    X(power_avg_w, SW_FT_DOUBLE, "W", 0, "Mean panel power in the string.",                                    \
      SW_KEYS("power_avg", "power_avg", "power_avg_w", "power_avg", "power_avg_w"),                               \
      SW_PROM("sunwire_string_panel_power_avg_watts", "gauge"), SW_NO_HA)                                       \
    X(energy_today_wh, SW_FT_DOUBLE, "Wh", 0, "String energy since local midnight.",                          \
      SW_KEYS("energy_today_wh", "energy_today", "energy_today_wh", "energy_today_wh", "energy_today_wh"),      \
      SW_PROM("sunwire_string_energy_today_joules", "gauge"),                                                   \
      SW_HA("energy today", "energy", "Wh", "total_increasing", NULL, NULL, 0, 1.0))                            \
    X(energy_total_wh, SW_FT_DOUBLE, "Wh", SW_FF_COUNTER, "Lifetime energy of the string's panels.",          \
      SW_KEYS("energy_total_wh", "energy_total", "energy_total_wh", "energy_total_wh", "energy_total_wh"),      \
      SW_PROM("sunwire_string_energy_joules_total", "counter"),                                                 \
      SW_HA("energy", "energy", "Wh", "total_increasing", NULL, NULL, 0, 1.0))                                \
    X(identified, SW_FT_UINT, "", SW_FF_DETAIL,                                                               \
      "Panels whose barcode is known (all of a named string; for \"total\", those identified on the bus).",   \
      SW_KEYS("identified", "identified", "identified", "identified", "identified"),                          \
      SW_PROM("sunwire_string_panels_identified", "gauge"),                                                   \
      SW_HA("panels identified", NULL, NULL, "measurement", SW_DIAG, "mdi:barcode", 0, 1.0))                  \
    X(voltage_in_min, SW_FT_DOUBLE, "V", SW_FF_DETAIL, "Lowest input voltage of the string's online panels.", \
      SW_KEYS("voltage_in_min", "voltage_in_min", "voltage_in_min", "voltage_in_min", "voltage_in_min"),      \
      SW_PROM("sunwire_string_panel_input_min_volts", "gauge"),                                               \
      SW_HA("input voltage min", "voltage", "V", "measurement", NULL, NULL, 2, 1.0))                          \
    X(voltage_in_max, SW_FT_DOUBLE, "V", SW_FF_DETAIL, "Highest input voltage of the string's online panels.", \
      SW_KEYS("voltage_in_max", "voltage_in_max", "voltage_in_max", "voltage_in_max", "voltage_in_max"),      \
      SW_PROM("sunwire_string_panel_input_max_volts", "gauge"),                                               \
      SW_HA("input voltage max", "voltage", "V", "measurement", NULL, NULL, 2, 1.0))                          \
    X(voltage_in_avg, SW_FT_DOUBLE, "V", SW_FF_DETAIL, "Mean input voltage of the string's online panels.",   \
      SW_KEYS("voltage_in_avg", "voltage_in_avg", "voltage_in_avg", "voltage_in_avg", "voltage_in_avg"),      \
      SW_PROM("sunwire_string_panel_input_avg_volts", "gauge"),                                               \
      SW_HA("input voltage avg", "voltage", "V", "measurement", NULL, NULL, 2, 1.0))                          \
    X(voltage_in_sum, SW_FT_DOUBLE, "V", SW_FF_DETAIL,                                                        \
      "Sum of the input voltages of the string's online panels.",                                             \
      SW_KEYS("voltage_in_sum", "voltage_in_sum", "voltage_in_sum", "voltage_in_sum", "voltage_in_sum"),      \
      SW_PROM("sunwire_string_input_volts", "gauge"),                                                         \
      SW_HA("input voltage sum", "voltage", "V", "measurement", NULL, NULL, 2, 1.0))                          \
    X(voltage_out_min, SW_FT_DOUBLE, "V", SW_FF_DETAIL, "Lowest output voltage of the string's online panels.", \
      SW_KEYS("voltage_out_min", "voltage_out_min", "voltage_out_min", "voltage_out_min", "voltage_out_min"), \
      SW_PROM("sunwire_string_panel_output_min_volts", "gauge"),                                              \
      SW_HA("output voltage min", "voltage", "V", "measurement", NULL, NULL, 2, 1.0))                         \
    X(voltage_out_max, SW_FT_DOUBLE, "V", SW_FF_DETAIL, "Highest output voltage of the string's online panels.", \
      SW_KEYS("voltage_out_max", "voltage_out_max", "voltage_out_max", "voltage_out_max", "voltage_out_max"), \
      SW_PROM("sunwire_string_panel_output_max_volts", "gauge"),                                              \
      SW_HA("output voltage max", "voltage", "V", "measurement", NULL, NULL, 2, 1.0))                         \
    X(voltage_out_avg, SW_FT_DOUBLE, "V", SW_FF_DETAIL, "Mean output voltage of the string's online panels.", \
      SW_KEYS("voltage_out_avg", "voltage_out_avg", "voltage_out_avg", "voltage_out_avg", "voltage_out_avg"), \
      SW_PROM("sunwire_string_panel_output_avg_volts", "gauge"),                                              \
      SW_HA("output voltage avg", "voltage", "V", "measurement", NULL, NULL, 2, 1.0))                         \
    X(voltage_out_sum, SW_FT_DOUBLE, "V", SW_FF_DETAIL,                                                       \
      "Sum of the output voltages of the string's online panels.",                                            \
      SW_KEYS("voltage_out_sum", "voltage_out_sum", "voltage_out_sum", "voltage_out_sum", "voltage_out_sum"), \
      SW_PROM("sunwire_string_output_volts", "gauge"),                                                        \
      SW_HA("output voltage sum", "voltage", "V", "measurement", NULL, NULL, 2, 1.0))                         \
    X(current_in_min, SW_FT_DOUBLE, "A", SW_FF_DETAIL, "Lowest input current of the string's online panels.", \
      SW_KEYS("current_in_min", "current_in_min", "current_in_min", "current_in_min", "current_in_min"),      \
      SW_PROM("sunwire_string_panel_input_min_amperes", "gauge"),                                             \
      SW_HA("input current min", "current", "A", "measurement", NULL, NULL, 3, 1.0))                          \
    X(current_in_max, SW_FT_DOUBLE, "A", SW_FF_DETAIL, "Highest input current of the string's online panels.", \
      SW_KEYS("current_in_max", "current_in_max", "current_in_max", "current_in_max", "current_in_max"),      \
      SW_PROM("sunwire_string_panel_input_max_amperes", "gauge"),                                             \
      SW_HA("input current max", "current", "A", "measurement", NULL, NULL, 3, 1.0))                          \
    X(current_in_avg, SW_FT_DOUBLE, "A", SW_FF_DETAIL, "Mean input current of the string's online panels.",   \
      SW_KEYS("current_in_avg", "current_in_avg", "current_in_avg", "current_in_avg", "current_in_avg"),      \
      SW_PROM("sunwire_string_panel_input_avg_amperes", "gauge"),                                             \
      SW_HA("input current avg", "current", "A", "measurement", NULL, NULL, 3, 1.0))                          \
    X(temperature_min_c, SW_FT_DOUBLE, "\xC2\xB0" "C", SW_FF_DETAIL,                                          \
      "Lowest temperature of the string's online panels.",                                                    \
      SW_KEYS("temperature_min", "temperature_min", "temperature_min_c", "temperature_min", "temperature_min_c"), \
      SW_PROM("sunwire_string_panel_temperature_min_celsius", "gauge"),                                       \
      SW_HA("temperature min", "temperature", "\xC2\xB0" "C", "measurement", NULL, NULL, 1, 1.0))             \
    X(temperature_max_c, SW_FT_DOUBLE, "\xC2\xB0" "C", SW_FF_DETAIL,                                          \
      "Highest temperature of the string's online panels.",                                                   \
      SW_KEYS("temperature_max", "temperature_max", "temperature_max_c", "temperature_max", "temperature_max_c"), \
      SW_PROM("sunwire_string_panel_temperature_max_celsius", "gauge"),                                       \
      SW_HA("temperature max", "temperature", "\xC2\xB0" "C", "measurement", NULL, NULL, 1, 1.0))             \
    X(temperature_avg_c, SW_FT_DOUBLE, "\xC2\xB0" "C", SW_FF_DETAIL,                                          \
      "Mean temperature of the string's online panels.",                                                      \
      SW_KEYS("temperature_avg", "temperature_avg", "temperature_avg_c", "temperature_avg", "temperature_avg_c"), \
      SW_PROM("sunwire_string_panel_temperature_avg_celsius", "gauge"),                                       \
      SW_HA("temperature avg", "temperature", "\xC2\xB0" "C", "measurement", NULL, NULL, 1, 1.0))             \
    X(duty_cycle_min, SW_FT_DOUBLE, "", SW_FF_DETAIL,                                                         \
      "Lowest duty cycle (0 to 1) of the string's online panels.",                                            \
      SW_KEYS("duty_cycle_min", "duty_cycle_min", "duty_cycle_min", "duty_cycle_min", "duty_cycle_min"),      \
      SW_PROM("sunwire_string_panel_duty_cycle_min_ratio", "gauge"),                                          \
      SW_HA("duty cycle min", NULL, "%", "measurement", SW_DIAG, "mdi:sine-wave", 0, 100.0))                  \
    X(duty_cycle_max, SW_FT_DOUBLE, "", SW_FF_DETAIL,                                                         \
      "Highest duty cycle (0 to 1) of the string's online panels.",                                           \
      SW_KEYS("duty_cycle_max", "duty_cycle_max", "duty_cycle_max", "duty_cycle_max", "duty_cycle_max"),      \
      SW_PROM("sunwire_string_panel_duty_cycle_max_ratio", "gauge"),                                          \
      SW_HA("duty cycle max", NULL, "%", "measurement", SW_DIAG, "mdi:sine-wave", 0, 100.0))                  \
    X(duty_cycle_avg, SW_FT_DOUBLE, "", SW_FF_DETAIL, "Mean duty cycle (0 to 1) of the string's online panels.", \
      SW_KEYS("duty_cycle_avg", "duty_cycle_avg", "duty_cycle_avg", "duty_cycle_avg", "duty_cycle_avg"),      \
      SW_PROM("sunwire_string_panel_duty_cycle_avg_ratio", "gauge"),                                          \
      SW_HA("duty cycle avg", NULL, "%", "measurement", SW_DIAG, "mdi:sine-wave", 0, 100.0))                  \
    X(rssi_min, SW_FT_DOUBLE, "", SW_FF_DETAIL,                                                               \
      "Lowest signal strength (raw, 0 to 255) of the string's online panels.",                                \
      SW_KEYS("rssi_min", "rssi_min", "rssi_min", "rssi_min", "rssi_min"),                                    \
      SW_PROM("sunwire_string_panel_rssi_min", "gauge"),                                                      \
      SW_HA("signal min", NULL, NULL, "measurement", SW_DIAG, "mdi:signal", 0, 1.0))                          \
    X(rssi_max, SW_FT_DOUBLE, "", SW_FF_DETAIL,                                                               \
      "Highest signal strength (raw, 0 to 255) of the string's online panels.",                               \
      SW_KEYS("rssi_max", "rssi_max", "rssi_max", "rssi_max", "rssi_max"),                                    \
      SW_PROM("sunwire_string_panel_rssi_max", "gauge"),                                                      \
      SW_HA("signal max", NULL, NULL, "measurement", SW_DIAG, "mdi:signal", 0, 1.0))                          \
    X(rssi_avg, SW_FT_DOUBLE, "", SW_FF_DETAIL,                                                               \
      "Mean signal strength (raw, 0 to 255) of the string's online panels.",                                  \
      SW_KEYS("rssi_avg", "rssi_avg", "rssi_avg", "rssi_avg", "rssi_avg"),                                    \
      SW_PROM("sunwire_string_panel_rssi_avg", "gauge"),                                                      \
      SW_HA("signal avg", NULL, NULL, "measurement", SW_DIAG, "mdi:signal", 0, 1.0))

/* ---- sw_gateway ------------------------------------------------------------------------------ */
#define SW_GATEWAY_FIELDS(X)                                                                                   \
    X(source, SW_FT_TEXT, "", SW_FF_ID, "Configured name of the Tigo bus.",                                    \
      SW_KEYS("source", "source", "source", "source", NULL), SW_NO_PROM, SW_NO_HA)                              \
    X(gateway_id, SW_FT_U16, "", SW_FF_ID, "Gateway id on the bus.",                                           \
      SW_KEYS("gateway", "gateway", "gateway_id", "gateway", NULL), SW_NO_PROM, SW_NO_HA)                       \
    X(address, SW_FT_TEXT, "", 0, "Radio (long) address, empty when unknown.",                                 \
      SW_KEYS("address", "address", "address", "address", NULL), SW_NO_PROM,                                   \
      SW_HA("Radio address", NULL, NULL, NULL, SW_DIAG, "mdi:identifier", -1, 1.0))                             \
    X(barcode, SW_FT_TEXT, "", 0, "Gateway barcode, empty when unknown.",                                      \
      SW_KEYS("barcode", "barcode", "barcode", "barcode", NULL), SW_NO_PROM, SW_NO_HA)                          \
    X(version, SW_FT_TEXT, "", 0, "First line of the firmware version text, empty when unknown.",              \
      SW_KEYS("version", "version", "version", "version", NULL), SW_NO_PROM,                                   \
      SW_HA("Firmware", NULL, NULL, NULL, SW_DIAG, "mdi:chip", -1, 1.0))

/* ---- sw_inverter ----------------------------------------------------------------------------- */
#define SW_INVERTER_FIELDS(X)                                                                                  \
    X(name, SW_FT_TEXT, "", SW_FF_ID, "Configured inverter name.",                                            \
      SW_KEYS("name", "name", "name", "inverter", NULL), SW_NO_PROM, SW_NO_HA)                                  \
    X(host, SW_FT_TEXT, "", 0, "Host the inverter is polled at.",                                              \
      SW_KEYS("host", NULL, "host", "host", NULL), SW_NO_PROM, SW_NO_HA)                                        \
    X(port, SW_FT_U16, "", 0, "TCP port the inverter is polled at.",                                           \
      SW_KEYS("port", NULL, "port", "port", NULL), SW_NO_PROM, SW_NO_HA)                                        \
    X(serial, SW_FT_TEXT, "", 0, "Serial number, empty until read.",                                           \
      SW_KEYS("serial", "serial", "serial", "serial", NULL), SW_NO_PROM, SW_NO_HA)                              \
    X(model, SW_FT_TEXT, "", 0, "Device model, empty until read.",                                             \
      SW_KEYS("model", "model", "model", "model", NULL), SW_NO_PROM, SW_NO_HA)                                  \
    X(firmware, SW_FT_TEXT, "", 0, "Firmware version, empty until read.",                                      \
      SW_KEYS("firmware", "firmware", "firmware", "firmware", NULL), SW_NO_PROM, SW_NO_HA)                      \
    X(online, SW_FT_BOOL, "", 0, "The inverter answers.",                                                      \
      SW_KEYS("online", "online", "online", "online", NULL), SW_NO_PROM, SW_NO_HA)                              \
    X(last_poll_ns, SW_FT_TIME, "s", 0, "Wall clock of the last complete answer.",                             \
      SW_KEYS(NULL, "last_poll", "last_poll", NULL, NULL), SW_NO_PROM, SW_NO_HA)

/* ---- sw_source_status ------------------------------------------------------------------------- */
#define SW_SOURCE_FIELDS(X)                                                                                    \
    X(name, SW_FT_TEXT, "", SW_FF_ID, "Configured source name.",                                              \
      SW_KEYS("name", NULL, "name", "source", NULL), SW_NO_PROM, SW_NO_HA)                                      \
    X(kind, SW_FT_KIND, "", SW_FF_ID, "What the source reads: tigo-serial, tigo-tcp, tigo-file or rct-tcp.",   \
      SW_KEYS(NULL, NULL, "kind", NULL, NULL), SW_NO_PROM, SW_NO_HA)                                            \
    X(address, SW_FT_TEXT, "", 0, "Device path or host:port.",                                                 \
      SW_KEYS("address", NULL, "address", NULL, NULL), SW_NO_PROM, SW_NO_HA)                                    \
    X(connected, SW_FT_BOOL, "", 0, "The source is connected.",                                                \
      SW_KEYS("connected", NULL, "connected", "connected", NULL), SW_NO_PROM, SW_NO_HA)                         \
    X(last_data_ns, SW_FT_TIME, "s", 0, "Wall clock of the last byte received.",                               \
      SW_KEYS(NULL, NULL, "last_data", NULL, NULL), SW_NO_PROM, SW_NO_HA)                                       \
    X(bytes, SW_FT_U64, "", SW_FF_COUNTER, "Bytes received.",                                                  \
      SW_KEYS("bytes", NULL, "bytes", "bytes", NULL), SW_NO_PROM, SW_NO_HA)                                     \
    X(frames, SW_FT_U64, "", SW_FF_COUNTER, "Good frames received.",                                           \
      SW_KEYS("frames", NULL, "frames", "frames", NULL), SW_NO_PROM, SW_NO_HA)                                  \
    X(crc_errors, SW_FT_U64, "", SW_FF_COUNTER, "Frames with a bad checksum.",                                 \
      SW_KEYS(NULL, NULL, "crc_errors", "crc_errors", NULL), SW_NO_PROM, SW_NO_HA)                              \
    X(resyncs, SW_FT_U64, "", SW_FF_COUNTER, "Garbage or noise runs and truncated frames.",                    \
      SW_KEYS(NULL, NULL, "resyncs", "resyncs", NULL), SW_NO_PROM, SW_NO_HA)                                    \
    X(reconnects, SW_FT_U64, "", SW_FF_COUNTER, "Connections re-established.",                                 \
      SW_KEYS("reconnects", NULL, "reconnects", "reconnects", NULL), SW_NO_PROM, SW_NO_HA)                      \
    X(requests, SW_FT_U64, "", SW_FF_COUNTER, "RCT requests sent.",                                            \
      SW_KEYS("requests", NULL, "requests", "requests", NULL), SW_NO_PROM, SW_NO_HA)                            \
    X(timeouts, SW_FT_U64, "", SW_FF_COUNTER, "RCT requests that got no answer in time.",                      \
      SW_KEYS("timeouts", NULL, "timeouts", "timeouts", NULL), SW_NO_PROM, SW_NO_HA)                            \
    X(retries, SW_FT_U64, "", SW_FF_COUNTER, "RCT requests sent again.",                                       \
      SW_KEYS(NULL, NULL, "retries", NULL, NULL), SW_NO_PROM, SW_NO_HA)                                         \
    X(foreign_replies, SW_FT_U64, "", SW_FF_COUNTER, "RCT replies to requests sunwire did not send.",         \
      SW_KEYS("foreign_replies", NULL, "foreign_replies", NULL, NULL), SW_NO_PROM, SW_NO_HA)                    \
    X(last_error, SW_FT_TEXT, "", 0, "Last error, empty when none.",                                           \
      SW_KEYS("last_error", NULL, "last_error", "last_error", NULL), SW_NO_PROM, SW_NO_HA)                      \
    X(diagnosis, SW_FT_TEXT, "", 0, "Tigo line diagnosis in plain words, empty until judged.",                 \
      SW_KEYS("diagnosis", NULL, "diagnosis", NULL, NULL), SW_NO_PROM, SW_NO_HA)

/* ---- sw_control (model/model.h; writes[] is counted by result, outside this table) ---------- */
#define SW_CONTROL_FIELDS(X)                                                                                   \
    X(inverter, SW_FT_TEXT, "", SW_FF_ID, "Configured inverter name.",                                        \
      SW_KEYS(NULL, NULL, "inverter", NULL, NULL), SW_NO_PROM, SW_NO_HA)                                        \
    X(object, SW_FT_TEXT, "", SW_FF_ID, "Registry name of the setting; empty for commands naming no control.", \
      SW_KEYS(NULL, NULL, "object", NULL, NULL), SW_NO_PROM, SW_NO_HA)                                          \
    X(allowed, SW_FT_BOOL, "", 0, "The setting is in control_allow.",                                          \
      SW_KEYS(NULL, NULL, "allowed", NULL, NULL), SW_NO_PROM, SW_NO_HA)                                         \
    X(retries, SW_FT_U64, "", SW_FF_COUNTER,                                                                   \
      "Control write frames sent again because the device ignored the one before.",                           \
      SW_KEYS(NULL, NULL, "retries", NULL, NULL), SW_PROM("sunwire_control_retries_total", "counter"),          \
      SW_NO_HA)                                                                                                \
    X(flash_per_day, SW_FT_UINT, "", 0, "Control write frames the flash budget allows per 24 hours.",          \
      SW_KEYS(NULL, NULL, "flash_per_day", NULL, NULL),                                                        \
      SW_PROM("sunwire_control_flash_writes_per_day", "gauge"), SW_NO_HA)                                      \
    X(flash_left, SW_FT_UINT, "", 0, "Control write frames the flash budget still allows in its 24-hour window.", \
      SW_KEYS(NULL, NULL, "flash_left", NULL, NULL), SW_PROM("sunwire_control_flash_writes_left", "gauge"),    \
      SW_NO_HA)                                                                                                \
    X(blocked, SW_FT_BOOL, "", 0,                                                                              \
      "1 while nothing is written to the setting: flash budget used up, or state file unreadable.",           \
      SW_KEYS(NULL, NULL, "blocked", NULL, NULL), SW_PROM("sunwire_control_blocked", "gauge"), SW_NO_HA)        \
    X(blocked_until_ns, SW_FT_TIME, "s", 0, "When the block of the setting ends (Unix time), while blocked.",  \
      SW_KEYS(NULL, NULL, "blocked_until", NULL, NULL),                                                        \
      SW_PROM("sunwire_control_blocked_until_timestamp_seconds", "gauge"), SW_NO_HA)

/* ---- derived descriptors ---------------------------------------------------------------------- */
extern const sw_field sw_panel_fields[];
extern const size_t sw_panel_field_count;
extern const sw_field sw_string_fields[];
extern const size_t sw_string_field_count;
extern const sw_field sw_gateway_fields[];
extern const size_t sw_gateway_field_count;
extern const sw_field sw_inverter_fields[];
extern const size_t sw_inverter_field_count;
extern const sw_field sw_source_fields[];
extern const size_t sw_source_field_count;
extern const sw_field sw_control_fields[];
extern const size_t sw_control_field_count;

/* The field whose member is `member`, NULL when the record has none. */
const sw_field *sw_field_find(const sw_field *fields, size_t n, const char *member);

/* Generic readers: the member of `rec` (a record of the table's type) that f describes. */
const char *sw_field_text(const sw_field *f, const void *rec);    /* TEXT; KIND as its name */
bool sw_field_bool(const sw_field *f, const void *rec);           /* BOOL */
int64_t sw_field_int(const sw_field *f, const void *rec);         /* every integer type, BOOL, TIME, KIND */
uint64_t sw_field_uint(const sw_field *f, const void *rec);       /* unsigned types (U64 exactly) */
double sw_field_number(const sw_field *f, const void *rec);       /* any non-text type as a number */
bool sw_field_is_unsigned(const sw_field *f);                     /* U16, U32, UINT, U64 */

/* The outputs a field can have a name in (sw_field_keys). */
typedef enum sw_field_output {
    SW_OUT_JSON = 0, /* the daemon's JSON lines */
    SW_OUT_MQTT,     /* MQTT state payloads and Home Assistant entity keys */
    SW_OUT_API,      /* the web API */
    SW_OUT_INFLUX,   /* InfluxDB line protocol */
    SW_OUT_SQL       /* SQLite history columns */
} sw_field_output;

/* The field's name in output o, NULL when o does not carry it. */
const char *sw_field_key(const sw_field *f, sw_field_output o);

/* How a SW_FT_TIME value is written to JSON. */
typedef enum sw_field_time {
    SW_FIELD_TIME_NS = 0,       /* integer Unix ns */
    SW_FIELD_TIME_RFC3339,      /* RFC 3339 text as sw_fmt_rfc3339 writes it, null when 0 */
    SW_FIELD_TIME_RFC3339_MS    /* the same cut to whole milliseconds */
} sw_field_time;

struct sw_json;
/* Write f's value of rec: text as a string, numbers as numbers (non-finite = null), bools as bools. */
void sw_field_json_value(struct sw_json *j, const sw_field *f, const void *rec, sw_field_time ts);
/* Key and value of every field output o carries, in table order. */
void sw_fields_json(struct sw_json *j, const sw_field *fields, size_t n, sw_field_output o, const void *rec,
                    sw_field_time ts);

/* "tigo-serial", "tigo-tcp", "tigo-file", "rct-tcp" ("unknown" otherwise). */
const char *sw_source_kind_name(sw_source_kind k);

#ifdef __cplusplus
}
#endif
#endif
