/*
 * rct_faults.c: names of the 128 bits of an RCT inverter's fault mask.
 *
 * The inverter reports faults as four 32-bit words, fault[0..3].flt; bit k of
 * the mask is bit k mod 32 of word k / 32, a set bit is a fault active now.
 * The meanings are vendor facts (see docs/rct-protocol.md); the short names
 * below are sunwire's own wording for logs, events and displays.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"

static const char *const fault_names[128] = {
    "CPU trap", "RTC not configurable", "RTC 1 Hz timeout", "hardware stop: 3.3 V",
    "hardware stop: PWM logic", "hardware stop: DC link overvoltage", "DC link + too high", "DC link - too high",
    "choke overcurrent L1", "choke overcurrent L2", "choke overcurrent L3", "buffer capacitor voltage",
    "oscillator fault", "grid undervoltage L1", "grid undervoltage L2", "grid undervoltage L3",
    "battery overcurrent", "relay test failed", "board too hot", "CPU core too hot",
    "heat sink 1 too hot", "heat sink 2 too hot", "power board I2C error", "power board fault",
    "PWM outputs defective", "insulation resistance too low", "DC current component (fast)",
    "DC current component (slow)", "current sensor channel offset", "relay box RS485 error",
    "phase-to-phase overvoltage", "IGBT L1 high side defective",
    "IGBT L1 low side defective", "IGBT L2 high side defective", "IGBT L2 low side defective",
    "IGBT L3 high side defective", "IGBT L3 low side defective", "sustained overvoltage L1",
    "sustained overvoltage L2", "sustained overvoltage L3", "overvoltage L1 level 1", "overvoltage L1 level 2",
    "overvoltage L2 level 1", "overvoltage L2 level 2", "overvoltage L3 level 1", "overvoltage L3 level 2",
    "overfrequency level 1", "overfrequency level 2", "undervoltage L1 level 1", "undervoltage L1 level 2",
    "undervoltage L2 level 1", "undervoltage L2 level 2", "undervoltage L3 level 1", "undervoltage L3 level 2",
    "underfrequency level 1", "underfrequency level 2", "CPU NMI", "CPU hard fault", "CPU memory fault",
    "CPU bus fault", "CPU usage fault", "RTC power-on reset", "RTC oscillator stopped", "RTC supply drop",
    "residual current jump DC+AC > 30 mA", "residual current jump DC > 60 mA",
    "residual current jump AC > 150 mA", "residual current > 300 mA", "+5 V supply wrong", "-9 V supply wrong",
    "+9 V supply wrong", "+3.3 V supply wrong", "residual current sensor calibration failed", "I2C failure",
    "AFI frequency generator failed", "heat sink too hot", "DC link over limit",
    "generator A voltage over limit", "generator B voltage over limit", "switch-on: L1 voltage too low",
    "switch-on: L1 voltage too high", "switch-on: L1 frequency too low", "switch-on: L1 frequency too high",
    "switch-on: L2 voltage too low", "switch-on: L2 voltage too high", "battery current sensor defective",
    "battery booster damaged", "switch-on: L3 voltage too low", "switch-on: L3 voltage too high",
    "AC terminal voltage offset (phase failure)", "disconnected from the house grid",
    "+9 V differs between DSP and PIC", "1.5 V error", "2.5 V error", "1.5 V measurement mismatch",
    "2.5 V measurement mismatch",
    "battery voltage out of range", "main PIC software not starting", "PIC bootloader active",
    "phase angle error", "battery overvoltage", "choke current unstable", "grid voltage mismatch L1",
    "grid voltage mismatch L2", "grid voltage mismatch L3", "external emergency off", "battery empty",
    "battery CAN timeout", "timing problem", "battery IGBT heat sink too hot", "battery heat sink too hot",
    "relay box internal error", "relay box PE off error", "relay box PE on error", "battery internal error",
    "parameter changed", "island formation failed 3 times", "phase-to-phase undervoltage", "system reset",
    "firmware update", "fault ride-through overvoltage", "fault ride-through undervoltage",
    "IGBT L1 freewheeling diode defective", "IGBT L2 freewheeling diode defective",
    "IGBT L3 freewheeling diode defective", "single-phase mode not allowed", "island detected",
    "neutral conductor fault",
};

const char *sw_daemon_rct_fault_name(unsigned bit)
{
    return bit < 128 ? fault_names[bit] : NULL;
}

size_t sw_daemon_rct_fault_text(unsigned word, uint32_t value, char *out, size_t cap)
{
    size_t len = 0;
    if (cap)
        out[0] = 0;
    if (value == 0 || word > 3) {
        int n = snprintf(out, cap, "%s", value == 0 ? "none" : "");
        return n < 0 ? 0 : (size_t)n;
    }
    for (unsigned b = 0; b < 32; b++) {
        if (!(value & (UINT32_C(1) << b)))
            continue;
        const char *name = fault_names[word * 32 + b];
        size_t need = strlen(name) + (len ? 2 : 0);
        if (cap && len + need < cap) {
            snprintf(out + len, cap - len, "%s%s", len ? ", " : "", name);
        } else if (cap && len + 4 < cap) {
            /* Out of room: say so rather than cut a name in half. */
            snprintf(out + len, cap - len, "%s", len ? ", ..." : "...");
            return len + need;
        }
        len += need;
    }
    return len;
}
