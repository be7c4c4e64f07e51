/*
 * json.c — the streaming JSON writer (see json.h for the contract).
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>
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

static void put_string(json *j, const char *s, size_t n)
{
    fputc('"', j->out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", j->out); break;
        case '\\': fputs("\\\\", j->out); break;
        case '\n': fputs("\\n", j->out); break;
        case '\r': fputs("\\r", j->out); break;
        case '\t': fputs("\\t", j->out); break;
        case '\b': fputs("\\b", j->out); break;
        case '\f': fputs("\\f", j->out); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(j->out, "\\u%04x", c);
            else
                fputc(c, j->out);
        }
    }
    fputc('"', j->out);
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
    static const char digits[] = "0123456789abcdef";

    before_item(j);
    fputc('"', j->out);
    for (size_t i = 0; i < n; i++) {
        fputc(digits[p[i] >> 4], j->out);
        fputc(digits[p[i] & 15], j->out);
    }
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
