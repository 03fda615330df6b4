#!/usr/bin/env python3
"""Generate src/rct/registry_table.c from data/rct-registry.tsv.

The RCT object registry is data (vendor knowledge), so it lives in a TSV file
and is turned into a constant C table here: objects sorted by id for binary
search, plus an index sorted by name. The output is committed; rerun this
script after changing the TSV, or run it with --check to verify that the
committed table is up to date (exit status 1 and a diff summary otherwise).

Python 3 standard library only.
"""

import argparse
import json
import os
import sys

COLUMNS = ["id", "index", "name", "group", "request_type", "response_type",
           "unit", "description", "enum_map", "sim_data"]

GROUPS = ["RB485", "ENERGY", "GRID_MON", "TEMPERATURE", "BATTERY", "CS_NEG",
          "HW_TEST", "G_SYNC", "LOGGER", "WIFI", "ADC", "NET", "ACC_CONV",
          "DC_CONV", "NSM", "IO_BOARD", "FLASH_RTC", "POWER_MNG",
          "BUF_V_CONTROL", "DB", "SWITCH_ON_COND", "P_REC", "MODBUS",
          "BAT_MNG_STRUCT", "ISO_STRUCT", "GRID_LT", "CAN_BUS",
          "DISPLAY_STRUCT", "FLASH_PARAM", "FAULT", "PRIM_SM", "CS_MAP",
          "LINE_MON", "OTHERS", "BATTERY_PLACEHOLDER", "FRT", "PARTITION"]

TYPES = ["UNKNOWN", "BOOL", "UINT8", "INT8", "UINT16", "INT16", "UINT32",
         "INT32", "ENUM", "FLOAT", "STRING", "TIMESERIES", "EVENT_TABLE",
         "BATTERY_MODULE_STATUS", "BATTERY_MODULE_STATISTICS",
         "BATTERY_MODULE_RESISTANCE"]


class TableError(Exception):
    pass


def c_string(text):
    """A C string literal; everything outside printable ASCII as 3-digit
    octal escapes, which (unlike \\x) cannot swallow a following digit."""
    out = ['"']
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            # Avoid trigraphs such as ??= by escaping every second '?'.
            if ch == "?" and out[-1] == "?":
                out.append("\\?")
            else:
                out.append(ch)
        else:
            out.append("\\%03o" % byte)
    out.append('"')
    return "".join(out)


def read_rows(path):
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0].split("\t") != COLUMNS:
        raise TableError("%s: unexpected header line" % path)
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != len(COLUMNS):
            raise TableError("%s:%d: %d fields, want %d" % (path, lineno, len(fields), len(COLUMNS)))
        row = dict(zip(COLUMNS, fields))
        row["lineno"] = lineno
        rows.append(row)
    return rows


def sim_kind(row):
    """Classify the simulator value: the TSV column holds JSON text."""
    text = row["sim_data"]
    try:
        value = json.loads(text)
    except ValueError:
        raise TableError("line %d: sim_data %r is not JSON" % (row["lineno"], text))
    if value is True:
        return "SW_RCT_SIM_TRUE", None
    if isinstance(value, str):
        return "SW_RCT_SIM_STRING", value
    if isinstance(value, float) and value == 0.0:
        return "SW_RCT_SIM_FLOAT_ZERO", None
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return "SW_RCT_SIM_ZERO", None
    raise TableError("line %d: unsupported sim_data %r" % (row["lineno"], text))


def generate(rows):
    objs = []
    seen_ids = set()
    seen_names = set()
    for row in rows:
        oid = int(row["id"], 16)
        if row["id"] != "0x%08X" % oid:
            raise TableError("line %d: id %r not in 0x%%08X form" % (row["lineno"], row["id"]))
        if oid in seen_ids:
            raise TableError("line %d: duplicate id %s" % (row["lineno"], row["id"]))
        if row["name"] in seen_names:
            raise TableError("line %d: duplicate name %s" % (row["lineno"], row["name"]))
        seen_ids.add(oid)
        seen_names.add(row["name"])
        for col in ("request_type", "response_type"):
            if row[col] not in TYPES:
                raise TableError("line %d: unknown type %r" % (row["lineno"], row[col]))
        if row["group"] not in GROUPS:
            raise TableError("line %d: unknown group %r" % (row["lineno"], row["group"]))
        enum = None
        if row["enum_map"]:
            mapping = json.loads(row["enum_map"])
            enum = sorted((int(k), v) for k, v in mapping.items())
        kind, sim_string = sim_kind(row)
        objs.append(dict(id=oid, index=int(row["index"]), name=row["name"],
                         group=row["group"], req=row["request_type"],
                         resp=row["response_type"], unit=row["unit"],
                         desc=row["description"], enum=enum, sim_kind=kind,
                         sim_string=sim_string, sim_json=row["sim_data"]))
    objs.sort(key=lambda o: o["id"])
    name_order = sorted(range(len(objs)), key=lambda i: objs[i]["name"].encode("utf-8"))

    out = []
    w = out.append
    w("/*")
    w(" * registry_table.c: the RCT object registry as constant data.")
    w(" *")
    w(" * GENERATED by tools/gen_rct_registry.py from data/rct-registry.tsv;")
    w(" * do not edit by hand. Objects are sorted by id (binary search); the")
    w(" * name index lists them in strcmp order of their names.")
    w(" */")
    w('#include "sunwire/rct_registry.h"')
    w("")
    w("extern const sw_rct_object sw_rct_registry_objects_[];")
    w("extern const uint16_t sw_rct_registry_name_index_[];")
    w("extern const uint32_t sw_rct_registry_ids_[];")
    w("extern const size_t sw_rct_registry_count_;")
    w("extern const size_t sw_rct_registry_name_max_;")
    w("")
    for o in objs:
        if o["enum"]:
            w("static const sw_rct_enum_label enum_%08X[] = {" % o["id"])
            for value, label in o["enum"]:
                w("    { %d, %s }," % (value, c_string(label)))
            w("};")
    w("")
    w("const sw_rct_object sw_rct_registry_objects_[%d] = {" % len(objs))
    for o in objs:
        enum_ref = "enum_%08X, %d" % (o["id"], len(o["enum"])) if o["enum"] else "NULL, 0"
        sim_s = c_string(o["sim_string"]) if o["sim_string"] is not None else "NULL"
        w("    { 0x%08Xu, %d, SW_RCT_GROUP_%s, SW_RCT_TYPE_%s, SW_RCT_TYPE_%s," % (
            o["id"], o["index"], o["group"], o["req"], o["resp"]))
        w("      %s, %s," % (c_string(o["name"]), c_string(o["unit"])))
        w("      %s," % c_string(o["desc"]))
        w("      %s, %s, %s, %s }," % (enum_ref, o["sim_kind"], sim_s, c_string(o["sim_json"])))
    w("};")
    w("")
    w("/* The ids alone, so that a lookup touches 3.5 KiB instead of the whole table. */")
    w("const uint32_t sw_rct_registry_ids_[%d] = {" % len(objs))
    for k in range(0, len(objs), 6):
        w("    " + " ".join("0x%08Xu," % o["id"] for o in objs[k:k + 6]))
    w("};")
    w("")
    w("const uint16_t sw_rct_registry_name_index_[%d] = {" % len(objs))
    for k in range(0, len(name_order), 12):
        w("    " + " ".join("%d," % i for i in name_order[k:k + 12]))
    w("};")
    w("")
    w("const size_t sw_rct_registry_count_ = %d;" % len(objs))
    w("const size_t sw_rct_registry_name_max_ = %d;" % max(len(o["name"].encode("utf-8")) for o in objs))
    return "\n".join(out) + "\n"


def main(argv=None):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tsv", default=os.path.join(root, "data", "rct-registry.tsv"))
    ap.add_argument("--out", default=os.path.join(root, "src", "rct", "registry_table.c"))
    ap.add_argument("--check", action="store_true",
                    help="compare with --out instead of writing it")
    args = ap.parse_args(argv)
    try:
        text = generate(read_rows(args.tsv))
    except (TableError, ValueError) as e:
        print("gen_rct_registry: %s" % e, file=sys.stderr)
        return 2
    if args.check:
        try:
            with open(args.out, encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            print("gen_rct_registry: %s" % e, file=sys.stderr)
            return 1
        if current != text:
            print("gen_rct_registry: %s is out of date; rerun tools/gen_rct_registry.py"
                  % args.out, file=sys.stderr)
            return 1
        return 0
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
