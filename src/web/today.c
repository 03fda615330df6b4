/*
 * today.c: the current day's power per panel and per string, kept in memory
 * in 5-minute buckets so the dashboard can chart today even when no history
 * store is configured (and so a chart opens instantly).
 *
 * The table is allocated once by the caller; when it is full, new keys are
 * ignored rather than evicting others (a chart that stays complete beats
 * one that flickers between panels). A new day resets a series when it is
 * next written.
 */
#include <stdio.h>
#include <string.h>

#include "web/web_internal.h"

static sw_web_series *lookup(const sw_web_today *t, char kind, const char *key, size_t *idx)
{
    if (t->last_hit < t->n) {
        sw_web_series *s = &t->series[t->last_hit];
        if (s->kind == kind && strcmp(s->key, key) == 0) {
            *idx = t->last_hit;
            return s;
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        sw_web_series *s = &t->series[i];
        if (s->kind == kind && strcmp(s->key, key) == 0) {
            *idx = i;
            return s;
        }
    }
    return NULL;
}

const sw_web_series *sw_web_today_find(const sw_web_today *t, char kind, const char *key)
{
    size_t idx;
    return t && key ? lookup(t, kind, key, &idx) : NULL;
}

void sw_web_today_add(sw_web_today *t, char kind, const char *key, int64_t day, int sod, double watts)
{
    if (!t || !t->series || !key || sod < 0 || sod >= 86400 || watts != watts)
        return;
    size_t idx = 0;
    sw_web_series *s = lookup(t, kind, key, &idx);
    if (!s) {
        if (t->n >= SW_WEB_SERIES_MAX)
            return;
        idx = t->n++;
        s = &t->series[idx];
        memset(s, 0, sizeof *s);
        s->kind = kind;
        snprintf(s->key, sizeof s->key, "%s", key);
        s->day = day;
    }
    t->last_hit = idx;
    if (day < s->day)
        return; /* a late sample from yesterday must not wipe today */
    if (day > s->day) {
        memset(s->sum, 0, sizeof s->sum);
        memset(s->count, 0, sizeof s->count);
        s->day = day;
    }
    int b = sod / SW_WEB_BUCKET_S;
    if (s->count[b] < UINT16_MAX) {
        s->sum[b] += (float)watts;
        s->count[b]++;
    }
}
