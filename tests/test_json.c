/*
 * test_json.c — the JSON writer (tools/json.c): commas and nesting, string
 * escaping, hex, and misuse detection.
 */
#include "config.h"

#include "testutil.h"
#include "json.h"

/* Runs f on a writer over a memory stream and returns the text (free it). */
static char *render(void (*f)(json *), bool pretty, int *rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    json j;

    ck_assert_ptr_nonnull(m);
    jw_init(&j, m, pretty);
    f(&j);
    *rc = jw_finish(&j);
    fclose(m);
    return text;
}

static void doc_nested(json *j)
{
    static const uint8_t b[] = {0x00, 0xab, 0xff};
    jw_begin_object(j);
    jw_key(j, "a");
    jw_u64(j, 18446744073709551615u);
    jw_key(j, "b");
    jw_begin_array(j);
    jw_i64(j, -5);
    jw_bool(j, true);
    jw_null(j);
    jw_begin_object(j);
    jw_end_object(j);
    jw_end_array(j);
    jw_key(j, "h");
    jw_hex(j, b, sizeof b);
    jw_end_object(j);
}

static void doc_escapes(json *j)
{
    jw_str(j, "q\"b\\n\n\t\x01\x7f\xc3\xa9");
}

static void doc_not_utf8(json *j)
{
    jw_str(j, "a\xff\xc3" "b");
}

static void doc_unbalanced(json *j)
{
    jw_begin_array(j);
    jw_u64(j, 1);
}

static void doc_dangling_key(json *j)
{
    jw_begin_object(j);
    jw_key(j, "k");
    jw_end_object(j);
}

START_TEST(nested_compact)
{
    int rc;
    char *t = render(doc_nested, false, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(t, "{\"a\":18446744073709551615,\"b\":[-5,true,null,{}],\"h\":\"00abff\"}\n");
    free(t);
}
END_TEST

START_TEST(nested_pretty)
{
    int rc;
    char *t = render(doc_nested, true, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(t, "{\n  \"a\": 18446744073709551615,\n  \"b\": [\n    -5,\n    true,\n"
                        "    null,\n    {}\n  ],\n  \"h\": \"00abff\"\n}\n");
    free(t);
}
END_TEST

START_TEST(not_utf8)
{
    int rc;
    char *t = render(doc_not_utf8, false, &rc);
    ck_assert_int_eq(rc, 0);
    /* each byte that is not UTF-8 is U+FFFD: still valid JSON */
    ck_assert_str_eq(t, "\"a\xef\xbf\xbd\xef\xbf\xbd" "b\"\n");
    free(t);
}
END_TEST

START_TEST(escapes)
{
    int rc;
    char *t = render(doc_escapes, false, &rc);
    ck_assert_int_eq(rc, 0);
    /* jansson's escapes: DEL needs none in JSON and gets none */
    ck_assert_str_eq(t, "\"q\\\"b\\\\n\\n\\t\\u0001\x7f\xc3\xa9\"\n");
    free(t);
}
END_TEST

START_TEST(misuse)
{
    int rc;
    char *t = render(doc_unbalanced, false, &rc);
    ck_assert_int_eq(rc, -1);
    free(t);
    t = render(doc_dangling_key, false, &rc);
    ck_assert_int_eq(rc, -1);
    free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("writer");

    tcase_add_test(tc, nested_compact);
    tcase_add_test(tc, nested_pretty);
    tcase_add_test(tc, escapes);
    tcase_add_test(tc, not_utf8);
    tcase_add_test(tc, misuse);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
