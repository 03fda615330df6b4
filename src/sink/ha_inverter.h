/*
 * sink/ha_inverter.h: how Home Assistant shows RCT inverter values.
 *
 * The descriptions are data: data/ha-inverter.tsv (one row per object, and
 * every object the daemon polls by default has one: a human name, device and
 * state class, unit, display precision, category and how the value is
 * published) and
 * data/ha-inverter-bits.tsv (status bits decoded into binary sensors).
 * tools/gen_ha_inverter.py turns them, together with the enumeration labels
 * of data/rct-registry.tsv, into ha_inverter_table.c. The sink does not link
 * the RCT protocol area, so the labels are copied in by the generator.
 */
#ifndef SUNWIRE_SINK_HA_INVERTER_H
#define SUNWIRE_SINK_HA_INVERTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "sunwire/json.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How an object's value goes into the inverter's MQTT state. */
typedef enum sw_ha_value_kind {
    SW_HA_KIND_VALUE = 0, /* as the model has it: a number, or a string for text objects */
    SW_HA_KIND_ABS,       /* also under "<key>_abs" as its absolute value, which the entity reads */
    SW_HA_KIND_ENUM,      /* its label (a string), one of the object's enumeration options */
    SW_HA_KIND_TEXT       /* also under "<key>_text" as its decoded text, which the entity reads */
} sw_ha_value_kind;

typedef struct sw_ha_inverter_entity {
    const char *object;       /* registry name, e.g. "battery.soc" */
    const char *name;         /* e.g. "Battery state of charge" */
    const char *device_class; /* NULL = none */
    const char *state_class;  /* NULL = none */
    const char *unit;         /* NULL = none */
    int precision;            /* suggested_display_precision, -1 = none */
    const char *category;     /* "diagnostic" or NULL */
    sw_ha_value_kind kind;
} sw_ha_inverter_entity;

/* An enumeration object's labels, each once, in the order of their first value. */
typedef struct sw_ha_enum {
    const char *object;
    const char *const *options;
    size_t n_options;
} sw_ha_enum;

/* One status bit group of a bit field, published as a boolean and a binary sensor. */
typedef struct sw_ha_status_bit {
    const char *object;       /* the bit field, e.g. "battery.bat_status" */
    const char *key;          /* state key suffix: "<object key>_<key>" */
    const char *name;
    const char *device_class; /* binary_sensor class, NULL = none */
    uint32_t mask;
    bool on_when_clear;       /* on when every bit of mask is clear (else: when any is set) */
} sw_ha_status_bit;

extern const sw_ha_inverter_entity sw_ha_inverter_entities[];
extern const size_t sw_ha_inverter_entity_count;
extern const sw_ha_enum sw_ha_enums[];
extern const size_t sw_ha_enum_count;
extern const sw_ha_status_bit sw_ha_status_bits[];
extern const size_t sw_ha_status_bit_count;

/* The row of an object, NULL when the table has none. */
const sw_ha_inverter_entity *sw_ha_inverter_entity_find(const char *object);
/* The labels of an enumeration object, NULL when it is not one (or has no labels). */
const sw_ha_enum *sw_ha_enum_find(const char *object);
/* Whether a status bit is on for a bit field's value. */
bool sw_ha_status_bit_on(const sw_ha_status_bit *b, uint32_t value);

/*
 * One inverter value in the inverter's MQTT state, under `key` (its
 * sw_mqtt_value_key): a number, or a string for text objects and for
 * enumerations (their label), followed by what the Home Assistant entities
 * read besides it: "<key>_abs", "<key>_text" and one boolean per status bit
 * ("<key>_<bit key>").
 */
void sw_ha_inverter_value_json(sw_json *j, const sw_inverter_value *v, const char *key);

#ifdef __cplusplus
}
#endif
#endif
