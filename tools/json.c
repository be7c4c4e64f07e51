/*
 * json.c — the streaming JSON writer (see json.h for the contract): the
 * structure (brackets, commas, indentation) is placed here as the values
 * come, and every string is encoded by jansson.
 */
#include "config.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "json.h"

void jw_init(json *j, FILE *out, bool pretty)
{
    j->out = out;
    j->pretty = pretty;
    j->depth = 0;
    j->first[0] = true;
    j->after_key = false;
    j->error = false;
}

static void newline(json *j)
{
    if (!j->pretty)
        return;
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Writes the separator that goes before a value or a key. */
static void before_item(json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (!j->first[j->depth])
        fputc(',', j->out);
    if (j->depth > 0)
        newline(j);
    j->first[j->depth] = false;
}

static void open_container(json *j, char c)
{
    before_item(j);
    fputc(c, j->out);
    if (j->depth + 1 >= JSON_MAX_DEPTH) {
        j->error = true;
        return;
    }
    j->depth++;
    j->first[j->depth] = true;
}

static void close_container(json *j, char c)
{
    if (j->depth == 0 || j->after_key) {
        j->error = true;
        return;
    }
    bool empty = j->first[j->depth];
    j->depth--;
    if (!empty)
        newline(j);
    fputc(c, j->out);
}

void jw_begin_object(json *j) { open_container(j, '{'); }
void jw_end_object(json *j) { close_container(j, '}'); }
void jw_begin_array(json *j) { open_container(j, '['); }
void jw_end_array(json *j) { close_container(j, ']'); }

/* s[0..n) as a JSON string, encoded by jansson (RFC 8259 escapes). Bytes
 * that are not UTF-8 (a file name may hold any) are each written as
 * U+FFFD, so the document stays valid JSON. */
static void put_string(json *j, const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    char *text;

    if (v == NULL) { /* not UTF-8 (jansson checks): keep the ASCII */
        char *t = n < SIZE_MAX / 3 ? malloc(3 * n + 1) : NULL;
        size_t o = 0;
        for (size_t i = 0; t != NULL && i < n; i++) {
            if ((unsigned char)s[i] < 0x80) {
                t[o++] = s[i];
            } else {
                memcpy(t + o, "\xef\xbf\xbd", 3);
                o += 3;
            }
        }
        v = t ? json_stringn_nocheck(t, o) : NULL;
        free(t);
    }
    text = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    if (text == NULL) {
        j->error = true;
        return;
    }
    fputs(text, j->out);
    free(text);
}

void jw_key(json *j, const char *key)
{
    before_item(j);
    put_string(j, key, strlen(key));
    fputs(j->pretty ? ": " : ":", j->out);
    j->after_key = true;
}

void jw_strn(json *j, const char *s, size_t n)
{
    before_item(j);
    put_string(j, s, n);
}

void jw_str(json *j, const char *s)
{
    jw_strn(j, s, strlen(s));
}

void jw_u64(json *j, uint64_t v)
{
    before_item(j);
    fprintf(j->out, "%" PRIu64, v);
}

void jw_i64(json *j, int64_t v)
{
    before_item(j);
    fprintf(j->out, "%" PRId64, v);
}

void jw_bool(json *j, bool v)
{
    before_item(j);
    fputs(v ? "true" : "false", j->out);
}

void jw_null(json *j)
{
    before_item(j);
    fputs("null", j->out);
}

void jw_hex(json *j, const uint8_t *p, size_t n)
{
    char buf[2 * 32 + 1];

    before_item(j);
    fputc('"', j->out);
    for (size_t i = 0; i < n; i += 32) {
        size_t k = n - i < 32 ? n - i : 32;
        sodium_bin2hex(buf, sizeof buf, p + i, k);
        fputs(buf, j->out);
    }
    sodium_memzero(buf, sizeof buf); /* may have been a secret (genesis --show-secret) */
    fputc('"', j->out);
}

int jw_finish(json *j)
{
    if (j->depth != 0 || j->after_key)
        j->error = true;
    fputc('\n', j->out);
    if (fflush(j->out) != 0 || ferror(j->out))
        j->error = true;
    return j->error ? -1 : 0;
}
