/*
 * json.h — the streaming JSON writer of the utxo command's --json output.
 * It tracks nesting and commas so callers only say what comes next, and
 * writes each value as it comes: `utxo verify --json` over a long chain
 * holds one block's line, not the document. Strings are encoded by jansson
 * (json_dumps of a json_string: RFC 8259 escapes); bytes that are not
 * UTF-8 come out as U+FFFD. jansson has no streaming writer, so the
 * brackets and commas are placed here. Output is compact, or indented with
 * `pretty`. Reading JSON (the node's clients)
 * and the node's answers use jansson, but for /block/H, whose u64 time
 * jansson's signed integers cannot hold. The prefix is jw_ because jansson
 * exports json_* names: a json_null of this writer once took the place of
 * jansson's in the node and crashed it.
 */
#ifndef UTXO_TOOLS_JSON_H
#define UTXO_TOOLS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

typedef struct json {
    FILE *out;
    bool pretty;
    int depth;
    bool first[JSON_MAX_DEPTH]; /* no element written yet at this depth */
    bool after_key;             /* a key was written; its value comes next */
    bool error;                 /* misuse (too deep, unbalanced): sticky */
} json;

void jw_init(json *j, FILE *out, bool pretty);
void jw_begin_object(json *j);
void jw_end_object(json *j);
void jw_begin_array(json *j);
void jw_end_array(json *j);
void jw_key(json *j, const char *key);
void jw_str(json *j, const char *s);
void jw_strn(json *j, const char *s, size_t n);
void jw_u64(json *j, uint64_t v);
void jw_i64(json *j, int64_t v);
void jw_bool(json *j, bool v);
void jw_null(json *j);
/* n bytes as a lowercase hex string */
void jw_hex(json *j, const uint8_t *p, size_t n);
/* Ends the document with a newline; returns 0, or -1 after misuse or a
 * write error. */
int jw_finish(json *j);

#endif /* UTXO_TOOLS_JSON_H */
