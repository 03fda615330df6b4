/*
 * ha_inverter.c: lookups in the generated Home Assistant inverter tables
 * (sink/ha_inverter.h), and an inverter value as its MQTT state keys. The
 * tables are a few dozen rows: a linear search is plenty, and it runs once
 * per value per state message.
 */
#include "sink/ha_inverter.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const sw_ha_inverter_entity *sw_ha_inverter_entity_find(const char *object)
{
    for (size_t i = 0; i < sw_ha_inverter_entity_count; i++)
        if (strcmp(sw_ha_inverter_entities[i].object, object) == 0)
            return &sw_ha_inverter_entities[i];
    return NULL;
}

const sw_ha_enum *sw_ha_enum_find(const char *object)
{
    for (size_t i = 0; i < sw_ha_enum_count; i++)
        if (strcmp(sw_ha_enums[i].object, object) == 0)
            return &sw_ha_enums[i];
    return NULL;
}

bool sw_ha_status_bit_on(const sw_ha_status_bit *b, uint32_t value)
{
    return b->on_when_clear ? (value & b->mask) == 0 : (value & b->mask) != 0;
}

static void extra_key(sw_json *j, const char *key, const char *suffix)
{
    char k[SW_MODEL_NAME_MAX + 64];
    snprintf(k, sizeof k, "%s_%s", key, suffix);
    sw_json_key(j, k);
}

void sw_ha_inverter_value_json(sw_json *j, const sw_inverter_value *v, const char *key)
{
    const sw_ha_inverter_entity *row = sw_ha_inverter_entity_find(v->object_name);
    sw_json_key(j, key);
    if (v->is_number && !sw_ha_enum_find(v->object_name))
        sw_json_double(j, v->number);
    else if (v->json)
        sw_json_raw(j, v->json, strlen(v->json)); /* a structured value as JSON, whole */
    else
        sw_json_string(j, v->text);
    if (row && row->kind == SW_HA_KIND_ABS && v->is_number) {
        /* RCT counts grid feed-in energy negative; Home Assistant's recorder
         * skips negative total_increasing states. */
        extra_key(j, key, "abs");
        sw_json_double(j, fabs(v->number));
    } else if (row && row->kind == SW_HA_KIND_TEXT) {
        extra_key(j, key, "text");
        sw_json_string(j, v->text);
    }
    /* A bit field is a 32-bit word; anything else decodes to no bits. */
    bool word = v->is_number && isfinite(v->number) && fabs(v->number) <= 4294967295.0;
    for (size_t i = 0; word && i < sw_ha_status_bit_count; i++) {
        const sw_ha_status_bit *b = &sw_ha_status_bits[i];
        if (strcmp(b->object, v->object_name) != 0)
            continue;
        extra_key(j, key, b->key);
        sw_json_bool(j, sw_ha_status_bit_on(b, (uint32_t)(int64_t)v->number));
    }
}
