/*
 * mqtt_queue.c: the bounded FIFO that holds state messages during a broker
 * outage.
 *
 * A ring of owned copies. The bound is in messages, fixed at start-up, so a
 * long outage costs at most queue_size messages of memory; when full, the
 * oldest message goes first because the newest state is what matters once
 * the broker is back. Discovery is never queued: it is rebuilt from the model
 * after each connect.
 *
 * The sink keeps a second one of these: copies of the state messages handed
 * to the connection and not yet acknowledged (each with its message id), which
 * go back in front of the outage queue when the connection is lost.
 */
#include "sink/sink_mqtt.h"

#include <stdlib.h>
#include <string.h>

sw_err sw_mqtt_queue_init(sw_mqtt_queue *q, size_t cap)
{
    memset(q, 0, sizeof *q);
    if (cap == 0)
        return SW_ERR_INVALID_ARGUMENT;
    q->slots = calloc(cap, sizeof *q->slots);
    if (!q->slots)
        return SW_ERR_NO_MEMORY;
    q->cap = cap;
    return SW_OK;
}

static void release(sw_mqtt_msg *m)
{
    free(m->topic);
    free(m->payload);
    memset(m, 0, sizeof *m);
}

void sw_mqtt_queue_free(sw_mqtt_queue *q)
{
    while (q->count)
        sw_mqtt_queue_pop(q);
    free(q->slots);
    memset(q, 0, sizeof *q);
}

sw_err sw_mqtt_queue_push(sw_mqtt_queue *q, const char *topic, const char *payload, size_t len, bool retain)
{
    if (!q->slots || !topic || (!payload && len))
        return SW_ERR_INVALID_ARGUMENT;
    size_t tlen = strlen(topic);
    char *t = malloc(tlen + 1);
    char *p = malloc(len + 1);
    if (!t || !p) {
        free(t);
        free(p);
        return SW_ERR_NO_MEMORY;
    }
    memcpy(t, topic, tlen + 1);
    if (len)
        memcpy(p, payload, len);
    p[len] = '\0';
    if (q->count == q->cap) {
        sw_mqtt_queue_pop(q);
        q->dropped++;
    }
    sw_mqtt_msg *m = &q->slots[(q->head + q->count) % q->cap];
    m->topic = t;
    m->payload = p;
    m->len = len;
    m->retain = retain;
    m->mid = 0;
    q->count++;
    return SW_OK;
}

const sw_mqtt_msg *sw_mqtt_queue_front(const sw_mqtt_queue *q)
{
    return q->count ? &q->slots[q->head] : NULL;
}

sw_mqtt_msg *sw_mqtt_queue_back(sw_mqtt_queue *q)
{
    return q->count ? &q->slots[(q->head + q->count - 1) % q->cap] : NULL;
}

void sw_mqtt_queue_pop(sw_mqtt_queue *q)
{
    if (!q->count)
        return;
    release(&q->slots[q->head]);
    q->head = (q->head + 1) % q->cap;
    q->count--;
}

bool sw_mqtt_queue_remove_mid(sw_mqtt_queue *q, int mid)
{
    size_t i;
    for (i = 0; i < q->count; i++)
        if (q->slots[(q->head + i) % q->cap].mid == mid)
            break;
    if (i == q->count)
        return false;
    /* The older messages move up one place; the front slot is then free. */
    release(&q->slots[(q->head + i) % q->cap]);
    for (; i > 0; i--)
        q->slots[(q->head + i) % q->cap] = q->slots[(q->head + i - 1) % q->cap];
    memset(&q->slots[q->head], 0, sizeof q->slots[q->head]);
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return true;
}

void sw_mqtt_queue_prepend(sw_mqtt_queue *q, sw_mqtt_queue *from)
{
    /* Newest of `from` first, each in front of what q holds: when q is full, the one in hand is the oldest. */
    while (from->count) {
        sw_mqtt_msg *m = &from->slots[(from->head + from->count - 1) % from->cap];
        if (q->count == q->cap) {
            release(m);
            q->dropped++;
        } else {
            q->head = (q->head + q->cap - 1) % q->cap;
            q->slots[q->head] = *m;
            q->slots[q->head].mid = 0;
            memset(m, 0, sizeof *m);
            q->count++;
        }
        from->count--;
    }
    from->head = 0;
}
