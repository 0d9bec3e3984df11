/*
 * jsonwrite: byte-for-byte the text jansson's own dumper writes (compact, ASCII-only), DEL
 * escaped as well, for every kind of value: random strings over all of Unicode and every
 * control character, integer extremes, reals, nesting, keys that need escaping. Output parses
 * back to an equal value; a full buffer or too deep a nesting leaves the buffer as it was.
 * Values written call by call give the same text directly as through the tree target, and
 * failures (nesting, NaN, a full buffer) are reported by both.
 */
#include "testutil.h"

#include <math.h>
#include <stdbool.h>

#include <stdlib.h>
#include <string.h>

#include "hspy/jsonwrite.h"
#include "hspy/utf8.h"

static void check_same(const json_t *v, int precision)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 24);
    assert_int_equal(jsonwrite_value(&out, v, precision), 0);
    char *want =
        tu_jansson_text(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(precision ? precision : 17));
    if (strcmp(dynbuf_str(&out), want) != 0)
        fail_msg("differs from jansson:\n got %s\nwant %s", dynbuf_str(&out), want);
    for (size_t i = 0; i < out.len; i++)
        assert_true(out.data[i] >= 0x20 && out.data[i] < 0x7f);
    json_t *back =
        json_loadb((const char *)out.data, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(back);
    /* Fewer digits than 17 may round a real: only full precision must read back equal. */
    if (precision == 0)
        assert_true(json_equal(back, (json_t *)v));
    json_decref(back);
    free(want);
    dynbuf_cleanup(&out);
}

static void test_scalars(void **state)
{
    (void)state;
    json_t *vals[] = {
        json_integer(0),
        json_integer(-1),
        json_integer(1700000000123456789),
        json_integer(INT64_MAX),
        json_integer(INT64_MIN),
        json_real(0.0),
        json_real(5.0),
        json_real(12.345),
        json_real(-0.001),
        json_real(1e300),
        json_real(1.0 / 3.0),
        json_true(),
        json_false(),
        json_null(),
        json_string(""),
        json_string("plain"),
        json_string("\"quoted\" \\back\\ /slash/ \b\f\n\r\t"),
        json_stringn("nul\0byte", 8),
        json_string("\x01\x1b[2J\x1f\x7f"),
        json_string("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 \xef\xbb\xbf \xc2\x9b"),
        json_string("\xf4\x8f\xbf\xbf\xee\x80\x80"),
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        assert_non_null(vals[i]);
        check_same(vals[i], 0);
        if (json_is_real(vals[i]))
            check_same(vals[i], 15);
        json_decref(vals[i]);
    }
}

static void test_containers(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:[],s:{},s:[i,s,[n,b,{s:f}]],s:{s:s},s:i}", "empty", "none", "list", 1,
                          "two", 1, "k\"ey", 2.5, "nested", "a\nb", "c\x01", "last", -7);
    assert_non_null(v);
    json_object_set_new(v, "\x1b key with escapes \xe2\x80\xae", json_string("v"));
    check_same(v, 0);
    check_same(json_object_get(v, "list"), 0);
    json_decref(v);
    json_t *empty = json_object();
    check_same(empty, 0);
    json_decref(empty);
}

static uint64_t rng(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}

/* Random valid UTF-8 over the whole code space, biased to controls and specials. */
static void test_random_strings(void **state)
{
    (void)state;
    uint64_t seed = 7;
    static uint8_t buf[4 * 3000];
    for (int round = 0; round < 4000; round++) {
        /* Odd rounds: long, mostly plain text, so the block-wise escaping paths run too. */
        bool plainish = round & 1;
        size_t n = 0, want = rng(&seed) % (plainish ? 3000 : 200);
        for (size_t i = 0; i < want; i++) {
            uint32_t cp;
            uint64_t pick = rng(&seed) % (plainish ? 60 : 6);
            switch (pick > 5 ? 2 : pick) {
            case 0: cp = rng(&seed) % 0x20; break;
            case 1: cp = "\"\\/\x7f"[rng(&seed) % 4]; break;
            case 2: cp = 0x20 + rng(&seed) % 0x60; break;
            case 3: cp = 0x80 + rng(&seed) % 0x780; break;
            case 4: cp = 0x800 + rng(&seed) % 0xf800; break;
            default: cp = 0x10000 + rng(&seed) % 0x100000; break;
            }
            if (cp >= 0xd800 && cp <= 0xdfff)
                cp = 'x';
            n += utf8_encode(cp, buf + n);
        }
        assert_true(utf8_valid(buf, n));
        json_t *s = json_stringn((const char *)buf, n);
        assert_non_null(s);
        check_same(s, 0);
        json_decref(s);
    }
}

static void test_limits(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s}", "key", "a value that does not fit");
    struct dynbuf small;
    dynbuf_init(&small, 20);
    dynbuf_adds(&small, "keep");
    assert_int_equal(jsonwrite_value(&small, v, 0), -1);
    assert_string_equal(dynbuf_str(&small), "keep");
    dynbuf_cleanup(&small);
    json_decref(v);

    json_t *deep = json_array();
    for (int i = 0; i < JSONWRITE_DEPTH_MAX + 5; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    assert_int_equal(jsonwrite_value(&out, deep, 0), -1);
    assert_int_equal(out.len, 0);
    dynbuf_cleanup(&out);
    json_decref(deep);
}

/*
 * A script of writer calls, one character each: '{' '[' open, '.' end, 'k' a key (the next
 * word of keys), 's' a string (the next of strings), 'i' 'r' 't' 'f' 'n' an integer, a real,
 * true, false, null, 'l' a lossy string, 'j' an embedded jansson value.
 */
static const char *const KEYS[] = {"a", "key with \"quotes\"", "", "\x1b\xe2\x80\xae",
                                   "long_key_name"};
static const char *const STRINGS[] = {"", "plain", "tab\there \x7f", "caf\xc3\xa9 \xf0\x9f\x98\x80",
                                      ("a string long enough for the block-wise path of escaping, "
                                       "with a \n newline and \x01 control near its end")};

static void run_script(struct jsonwrite *w, const char *script)
{
    size_t k = 0, s = 0;
    int64_t ints[] = {0, -1, INT64_MAX, INT64_MIN, 1700000000123456789};
    size_t i = 0;
    for (const char *c = script; *c; c++) {
        switch (*c) {
        case '{': jsonwrite_begin_object(w); break;
        case '[': jsonwrite_begin_array(w); break;
        case '.': jsonwrite_end(w); break;
        case 'k': {
            const char *key = KEYS[k++ % 5];
            jsonwrite_key(w, key, strlen(key));
            break;
        }
        case 's': jsonwrite_cstring(w, STRINGS[s++ % 5]); break;
        case 'l': jsonwrite_lossy(w, "bad \xff\xfe utf-8 \xc3", 14); break;
        case 'i': jsonwrite_int(w, ints[i++ % 5]); break;
        case 'r': jsonwrite_real(w, 2.5e-7); break;
        case 't': jsonwrite_bool(w, true); break;
        case 'f': jsonwrite_bool(w, false); break;
        case 'n': jsonwrite_null(w); break;
        case 'j': {
            json_t *v = json_pack("{s:[i,s,{}],s:n}", "x", 1, "y\n", "z");
            jsonwrite_json(w, v);
            json_decref(v);
            break;
        }
        default: fail_msg("bad script character %c", *c);
        }
    }
}

static void test_calls_text_and_tree(void **state)
{
    (void)state;
    static const char *const scripts[] = {
        "i",
        "s",
        "n",
        "t",
        "r",
        "l",
        "j",
        "{.",
        "[.",
        "{ks.",
        "[sifnt.",
        "{kskikn.",
        "{k[.k{.kj.",
        "[[[[....",
        "{k{k{k{ks....",
        "[j{kj.j[j..",
        "{kskskskskl.",
        "[{ki.{ks.{k[..{kr..",
        "{k[{k[{k[{k[s........",
    };
    struct jsonwrite *w = malloc(sizeof *w);
    assert_non_null(w);
    for (size_t n = 0; n < sizeof scripts / sizeof scripts[0]; n++) {
        const char *script = scripts[n];
        struct dynbuf text, via;
        dynbuf_init(&text, 1 << 16);
        dynbuf_init(&via, 1 << 16);
        dynbuf_adds(&text, ">");
        dynbuf_adds(&via, ">");
        jsonwrite_init_text(w, &text, 0);
        run_script(w, script);
        assert_int_equal(jsonwrite_finish(w), 0);
        jsonwrite_init_tree(w);
        run_script(w, script);
        json_t *tree = jsonwrite_take(w);
        assert_non_null(tree);
        /* The tree written whole (proven to be jansson's text) is the text written call by
         * call, after what the buffer held. */
        assert_int_equal(jsonwrite_value(&via, tree, 0), 0);
        if (strcmp(dynbuf_str(&text), dynbuf_str(&via)) != 0)
            fail_msg("script %s:\n text %s\n tree %s", script, dynbuf_str(&text), dynbuf_str(&via));
        check_same(tree, 0);
        json_decref(tree);
        dynbuf_cleanup(&via);
        dynbuf_cleanup(&text);
    }
    free(w);
}

/* Names (keys written without a check) across many stage flushes equal jansson's text. */
static void test_names(void **state)
{
    (void)state;
    struct jsonwrite *w = malloc(sizeof *w);
    assert_non_null(w);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    json_t *want = json_object();
    char names[900][40];
    jsonwrite_init_text(w, &out, 0);
    jsonwrite_begin_object(w);
    for (int i = 0; i < 900; i++) {
        /* lengths 1 to 33: some over the 16 bytes copied inline */
        snprintf(names[i], sizeof names[i], "%.*s%d", i % 30, "abcdefghijklmnopqrstuvwxyz_-+.", i);
        jsonwrite_name(w, names[i]);
        jsonwrite_int(w, i);
        json_object_set_new(want, names[i], json_integer(i));
    }
    jsonwrite_end(w);
    assert_int_equal(jsonwrite_finish(w), 0);
    assert_true(out.len > 2 * JSONWRITE_STAGE);
    char *t = json_dumps(want, JSON_COMPACT | JSON_ENSURE_ASCII);
    assert_string_equal(dynbuf_str(&out), t);
    free(t);
    json_decref(want);
    dynbuf_cleanup(&out);
    free(w);
}

/* Failures of calls: NaN, a full buffer, too deep a nesting. Text is rolled back; a tree is not
 * returned (it has no size limit, so only NaN and nesting fail it). */
static void test_call_failures(void **state)
{
    (void)state;
    struct jsonwrite *w = malloc(sizeof *w);
    assert_non_null(w);
    char deep[2 * (JSONWRITE_DEPTH_MAX + 1) + 1];
    memset(deep, '[', JSONWRITE_DEPTH_MAX + 1);
    memset(deep + JSONWRITE_DEPTH_MAX + 1, '.', JSONWRITE_DEPTH_MAX + 1);
    deep[sizeof deep - 1] = '\0';
    static const struct {
        const char *script; /* NULL: the too deep one */
        bool tree_fails;
    } cases[] = {
        {"[inrn.", true}, /* 'n' then 'r' of NaN below */
        {"[sssssssssssssssssssss.", false},
        {NULL, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int tree = 0; tree < 2; tree++) {
            struct dynbuf out;
            dynbuf_init(&out, 256);
            dynbuf_adds(&out, "keep");
            if (tree)
                jsonwrite_init_tree(w);
            else
                jsonwrite_init_text(w, &out, 0);
            if (i == 0) {
                jsonwrite_begin_array(w);
                jsonwrite_int(w, 1);
                jsonwrite_real(w, NAN);
                jsonwrite_null(w);
                jsonwrite_end(w);
            } else {
                run_script(w, cases[i].script ? cases[i].script : deep);
            }
            if (tree) {
                json_t *v = jsonwrite_take(w);
                assert_true((v == NULL) == cases[i].tree_fails);
                json_decref(v);
            } else {
                assert_int_equal(jsonwrite_finish(w), -1);
                assert_string_equal(dynbuf_str(&out), "keep");
            }
            dynbuf_cleanup(&out);
        }
    }
    /* The deepest nesting allowed still works. */
    struct dynbuf out;
    dynbuf_init(&out, 1024);
    jsonwrite_init_text(w, &out, 0);
    for (int d = 0; d < JSONWRITE_DEPTH_MAX; d++)
        jsonwrite_begin_array(w);
    for (int d = 0; d < JSONWRITE_DEPTH_MAX; d++)
        jsonwrite_end(w);
    assert_int_equal(jsonwrite_finish(w), 0);
    assert_int_equal(out.len, 2 * JSONWRITE_DEPTH_MAX);
    free(w);
    dynbuf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_random_strings),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_calls_text_and_tree),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_call_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
