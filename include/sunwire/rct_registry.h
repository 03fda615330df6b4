/*
 * sunwire/rct_registry.h: the known RCT Power object ids (895 objects).
 *
 * Which id means what, and which data type its payload has, is vendor
 * firmware knowledge, not protocol: the table is generated from
 * data/rct-registry.tsv by tools/gen_rct_registry.py into a constant C array
 * (src/rct/registry_table.c) sorted by id, plus an index sorted by name. It is
 * read-only; lookups never allocate.
 */
#ifndef SUNWIRE_RCT_REGISTRY_H
#define SUNWIRE_RCT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/rct_frame.h"
#include "sunwire/rct_value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* rctclient's ObjectGroup numbers (informational). */
typedef enum sw_rct_group {
    SW_RCT_GROUP_RB485 = 0, SW_RCT_GROUP_ENERGY, SW_RCT_GROUP_GRID_MON,
    SW_RCT_GROUP_TEMPERATURE, SW_RCT_GROUP_BATTERY, SW_RCT_GROUP_CS_NEG,
    SW_RCT_GROUP_HW_TEST, SW_RCT_GROUP_G_SYNC, SW_RCT_GROUP_LOGGER, SW_RCT_GROUP_WIFI,
    SW_RCT_GROUP_ADC, SW_RCT_GROUP_NET, SW_RCT_GROUP_ACC_CONV, SW_RCT_GROUP_DC_CONV,
    SW_RCT_GROUP_NSM, SW_RCT_GROUP_IO_BOARD, SW_RCT_GROUP_FLASH_RTC,
    SW_RCT_GROUP_POWER_MNG, SW_RCT_GROUP_BUF_V_CONTROL, SW_RCT_GROUP_DB,
    SW_RCT_GROUP_SWITCH_ON_COND, SW_RCT_GROUP_P_REC, SW_RCT_GROUP_MODBUS,
    SW_RCT_GROUP_BAT_MNG_STRUCT, SW_RCT_GROUP_ISO_STRUCT, SW_RCT_GROUP_GRID_LT,
    SW_RCT_GROUP_CAN_BUS, SW_RCT_GROUP_DISPLAY_STRUCT, SW_RCT_GROUP_FLASH_PARAM,
    SW_RCT_GROUP_FAULT, SW_RCT_GROUP_PRIM_SM, SW_RCT_GROUP_CS_MAP,
    SW_RCT_GROUP_LINE_MON, SW_RCT_GROUP_OTHERS, SW_RCT_GROUP_BATTERY_PLACEHOLDER,
    SW_RCT_GROUP_FRT, SW_RCT_GROUP_PARTITION,
    SW_RCT_GROUP_COUNT_
} sw_rct_group;

/* "BATTERY", "G_SYNC", ...; NULL outside the enum. */
SW_API const char *sw_rct_group_name(sw_rct_group g);
SW_API sw_err sw_rct_group_from_name(const char *name, sw_rct_group *out);

typedef struct sw_rct_enum_label {
    int64_t value;
    const char *label;
} sw_rct_enum_label;

/* What the reference simulator answers for a READ (TSV column sim_data). */
typedef enum sw_rct_sim_kind {
    SW_RCT_SIM_ZERO = 0,   /* 0 (integers; composite types cannot be encoded) */
    SW_RCT_SIM_FLOAT_ZERO, /* 0.0 */
    SW_RCT_SIM_TRUE,       /* true */
    SW_RCT_SIM_STRING      /* sim_string */
} sw_rct_sim_kind;

typedef struct sw_rct_object {
    uint32_t id;
    uint16_t index;             /* vendor index, informational (605 occurs twice) */
    sw_rct_group group;
    sw_rct_type request_type;   /* encodes what a client sends (writes, logger query time) */
    sw_rct_type response_type;  /* decodes what comes back */
    const char *name;           /* e.g. "battery.soc" */
    const char *unit;           /* "" when none */
    const char *description;    /* "" when none */
    const sw_rct_enum_label *enum_map; /* sorted by value; NULL when none */
    uint16_t enum_count;
    sw_rct_sim_kind sim_kind;
    const char *sim_string;     /* for SW_RCT_SIM_STRING, else NULL */
    const char *sim_data_json;  /* the TSV's sim_data text, e.g. "0.0", "\"RCT\"" */
} sw_rct_object;

/* Number of objects (895). */
SW_API size_t sw_rct_registry_count(void);
/* i-th object in ascending id order; NULL when i >= count. */
SW_API const sw_rct_object *sw_rct_registry_at(size_t i);
/* i-th object in ascending name order (strcmp); NULL when i >= count. */
SW_API const sw_rct_object *sw_rct_registry_at_by_name(size_t i);
/* Binary search by id; NULL when unknown. */
SW_API const sw_rct_object *sw_rct_registry_find_id(uint32_t id);
/* Exact, case-sensitive name; binary search in the name index; NULL when unknown. */
SW_API const sw_rct_object *sw_rct_registry_find_name(const char *name);
/* Length of the longest name (48), for column alignment. */
SW_API size_t sw_rct_registry_name_max_length(void);

/* Called per match; return non-zero to stop early. */
typedef int (*sw_rct_object_cb)(const sw_rct_object *obj, void *ctx);
/*
 * Objects whose name starts with prefix (case-sensitive; "" = all), in name
 * order. Returns the number of matches visited (all of them unless cb stops;
 * cb may be NULL to just count).
 */
SW_API size_t sw_rct_registry_prefix(const char *prefix, sw_rct_object_cb cb, void *ctx);
/* Objects whose name contains needle (case-sensitive), in name order. */
SW_API size_t sw_rct_registry_search(const char *needle, sw_rct_object_cb cb, void *ctx);

/*
 * Label of an ENUM value. SW_ERR_RCT_NOT_ENUM when the object's type is not
 * ENUM, SW_ERR_RCT_NO_ENUM_MAP when it has no labels, SW_ERR_NOT_FOUND when
 * the value has none.
 */
SW_API sw_err sw_rct_object_enum_label(const sw_rct_object *obj, int64_t value, const char **label);
/* Inverse (exact label text), same errors. */
SW_API sw_err sw_rct_object_enum_value(const sw_rct_object *obj, const char *label, int64_t *value);

/*
 * The value the reference simulator answers with, of the response type.
 * SW_ERR_RCT_NOT_ENCODABLE for the 69 objects whose response type cannot be
 * encoded (time series, event table, battery modules, UNKNOWN).
 */
SW_API sw_err sw_rct_object_sim_value(const sw_rct_object *obj, sw_rct_value *out);

/*
 * Text -> value of the object's request type (sw_rct_value_from_text), but an
 * ENUM also accepts one of its labels.
 */
SW_API sw_err sw_rct_object_parse_value(const sw_rct_object *obj, const char *text, sw_rct_value *out,
                                 uint8_t *storage, size_t cap);

/*
 * The type a frame's payload has, in one step: the object's response type for
 * RESPONSE commands, its request type for writes and for READs that carry a
 * payload. SW_ERR_RCT_UNKNOWN_OBJECT when the id is not in the registry,
 * SW_ERR_NOT_FOUND when the frame carries no value (EXTENSION, empty READ).
 */
SW_API sw_err sw_rct_frame_value_type(const sw_rct_frame *frame, const sw_rct_object **obj, sw_rct_type *type);

/* Storage sw_rct_decode_reply needs for this frame (0 when none, or when it has no value). */
SW_API size_t sw_rct_reply_storage_size(const sw_rct_frame *frame);

/*
 * Look the frame's object up in the registry and decode its payload with the
 * type sw_rct_frame_value_type names, in one call. *obj (may be NULL) is the
 * object, or NULL when the id is unknown. Storage as for sw_rct_value_decode:
 * sw_rct_reply_storage_size(frame) bytes, NULL/0 for all but time series and
 * event tables. Errors: those of sw_rct_frame_value_type and sw_rct_value_decode.
 */
SW_API sw_err sw_rct_decode_reply(const sw_rct_frame *frame, const sw_rct_object **obj, sw_rct_value *out,
                           void *storage, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
