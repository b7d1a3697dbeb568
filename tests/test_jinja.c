/* tests/test_jinja.c — the Jinja engine (src/jinja*.c) against exact expected text: whitespace
 * control with trim_blocks/lstrip_blocks, loops and their variables, scopes, macros and call
 * blocks, filters, tests, Python's number/str/repr/% /format semantics, tojson variants,
 * undefined values, errors with their line and column, the limits, origins (a message's
 * "<|im_end|>" stays data), JSON variables; and every case of ../shared's jinja-hf.ref (the
 * transformers renderings), byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jinja.h"

static char errbuf[1024];

/* Renders src with the members of the JSON object vars (NULL: none) as variables, under lim
 * (NULL: the defaults), flags for the JSON. 0 with *o filled, or -1 with errbuf set. */
static int render_full(const char *src, const char *vars, int flags,
                       const struct jinja_limits *lim, struct jinja_out *o) {
    jinja_tmpl *t = NULL;
    jinja_ctx *c = NULL;
    int rc = -1;
    memset(o, 0, sizeof *o);
    errbuf[0] = 0;
    if (jinja_parse(src, strlen(src), &t, errbuf, sizeof errbuf))
        return -1;
    c = jinja_ctx_new();
    if (!c)
        goto out;
    if (vars && jinja_ctx_set_json_vars(c, vars, strlen(vars), flags, errbuf, sizeof errbuf))
        goto out;
    struct tm now = {.tm_year = 126, .tm_mon = 11, .tm_mday = 1, .tm_hour = 12, .tm_wday = 2,
                     .tm_yday = 334, .tm_isdst = -1};
    jinja_ctx_set_now(c, &now);
    if (lim)
        jinja_ctx_set_limits(c, lim);
    rc = jinja_render(t, c, o, errbuf, sizeof errbuf);
out:
    jinja_ctx_free(c);
    jinja_free(t);
    return rc;
}

/* The rendering as a C string (caller frees), NULL on error (errbuf). */
static char *render(const char *src, const char *vars) {
    struct jinja_out o;
    if (render_full(src, vars, 0, NULL, &o))
        return NULL;
    char *s = o.text;
    free(o.origin);
    return s;
}

#define EXPECT(src, vars, want)                                                            \
    do {                                                                                   \
        char *got_ = render(src, vars);                                                    \
        int ok_ = got_ && !strcmp(got_, want);                                             \
        if (!ok_)                                                                          \
            test_fail(__FILE__, __LINE__, "%s\n  got  [%s]\n  want [%s]", src,             \
                      got_ ? got_ : errbuf, want);                                         \
        free(got_);                                                                        \
        if (!ok_)                                                                          \
            return;                                                                        \
    } while (0)

#define EXPECT_ERR(src, vars, want)                                                        \
    do {                                                                                   \
        char *got_ = render(src, vars);                                                    \
        int ok_ = !got_ && !strcmp(errbuf, want);                                          \
        if (!ok_)                                                                          \
            test_fail(__FILE__, __LINE__, "%s\n  got  [%s]\n  want error [%s]", src,       \
                      got_ ? got_ : errbuf, want);                                         \
        free(got_);                                                                        \
        if (!ok_)                                                                          \
            return;                                                                        \
    } while (0)

static const char conv[] =
    "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
    " {\"role\": \"user\", \"content\": \"Hi <|im_end|> there\"},"
    " {\"role\": \"assistant\", \"content\": \"Hello!\"}], \"tools\": null}";

TEST(jinja_whitespace) {
    /* trim_blocks: the newline after a block tag goes; lstrip_blocks: indentation before it */
    EXPECT("{% if true %}\nyes\n{% endif %}\nend", NULL, "yes\nend");
    EXPECT("  {% if true %}\n    x\n  {% endif %}\n", NULL, "    x\n");
    EXPECT("a  {% if true %}b{% endif %}", NULL, "a  b"); /* not at a line start */
    EXPECT("  {{ 1 }}\n", NULL, "  1");                   /* variables are not stripped */
    EXPECT("{{ 1 }}\n{{ 2 }}", NULL, "1\n2");
    EXPECT("a \n  {%- if true -%}  \n b {%- endif %}", NULL, "ab");
    EXPECT("a {{- 1 -}} \n b", NULL, "a1b");
    EXPECT("  {%+ if true %}x{% endif %}", NULL, "  x");  /* + keeps the indentation */
    EXPECT("{% if true +%}\nx{% endif %}", NULL, "\nx"); /* + keeps the newline */
    EXPECT("a{# a comment #}\nb", NULL, "ab");
    EXPECT("a\n  {# indented comment #}\nb", NULL, "a\nb");
    EXPECT("a {#- c -#} b", NULL, "ab");
    EXPECT("{% raw %}{{ x }}{% if %}{% endraw %}", NULL, "{{ x }}{% if %}");
    EXPECT("{%- raw -%}  a  {%- endraw -%}", NULL, "a");
    EXPECT("x\r\ny\rz\n", NULL, "x\ny\nz"); /* newlines normalized, one trailing one dropped */
    EXPECT("x\n\n", NULL, "x\n");
    EXPECT("{{ 'a' \"b\" }}", NULL, "ab");
    EXPECT("\xe2\x80\x83{%- if 1 %}u{% endif %}", NULL, "u"); /* \s is Unicode whitespace */
    EXPECT("{% generation %}g{{ 1 }}{% endgeneration %}", NULL, "g1");
}

TEST(jinja_loops) {
    EXPECT("{% for i in [10, 20, 30] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}"
           "{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
           NULL, "1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;");
    EXPECT("{% for i in range(3) %}{{ loop.previtem }}-{{ loop.nextitem }},{% endfor %}", NULL,
           "-1,0-2,1-,");
    EXPECT("{% for i in 'abc' %}{{ loop.cycle('x', 'y') }}{% endfor %}", NULL, "xyx");
    EXPECT("{% for i in [1, 1, 2] %}{{ loop.changed(i) }}{% endfor %}", NULL, "TrueFalseTrue");
    EXPECT("{% for i in range(10) if i is odd %}{{ i }}/{{ loop.length }} {% endfor %}", NULL,
           "1/5 3/5 5/5 7/5 9/5 ");
    EXPECT("{% for i in [] %}x{% else %}empty{% endfor %}", NULL, "empty");
    EXPECT("{% for i in range(9) %}{% if i == 4 %}{% break %}{% endif %}{% if i is odd %}"
           "{% continue %}{% endif %}{{ i }}{% endfor %}", NULL, "02");
    EXPECT("{% for k, v in {'b': 1, 'a': 2}.items() %}{{ k }}={{ v }} {% endfor %}", NULL,
           "b=1 a=2 ");
    EXPECT("{% for x in [[1, [2, [3]]]] recursive %}{% if x is iterable %}{{ loop(x) }}"
           "{% else %}{{ x }}@{{ loop.depth }} {% endif %}{% endfor %}", NULL,
           "1@2 2@3 3@4 ");
    /* scopes: a set inside a loop does not leak; a namespace carries the value out */
    EXPECT("{% set x = 0 %}{% for i in [1, 2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}{{ x }}",
           NULL, "01020");
    EXPECT("{% set ns = namespace(n=0) %}{% for i in range(5) %}{% set ns.n = ns.n + i %}"
           "{% endfor %}{{ ns.n }} {{ ns }}", NULL, "10 <Namespace {'n': 10}>");
    EXPECT("{% for m in messages %}{{ m.role[0] }}{% endfor %}", conv, "sua");
    /* one scope per loop, emptied each iteration, with more than 8 names (a hashed dict) */
    EXPECT("{% for i in range(3) %}{{ i }}{{ a is defined }}{% set a = 1 %}{% set b = 2 %}"
           "{% set c = 3 %}{% set d = 4 %}{% set e = 5 %}{% set f = 6 %}{% set g = 7 %}"
           "{% set h = 8 %}{% set j = 9 %}{% endfor %}", NULL, "0False1False2False");
    EXPECT("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set x, (y, z) = [1, [2, 3]] %}{{ x + y + z }}",
           NULL, "126");
}

TEST(jinja_macros) {
    EXPECT("{% macro m(a, b=2, c='x') %}[{{ a }}{{ b }}{{ c }}]{% endmacro %}"
           "{{ m(1) }}{{ m(1, 3) }}{{ m(1, c='y') }}{{ m() }}", NULL, "[12x][13x][12y][2x]");
    EXPECT("{% macro v() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ v(1, 2, k=3) }}", NULL,
           "(1, 2){'k': 3}");
    EXPECT("{% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(3) }}",
           NULL, "321");
    EXPECT("{% macro w(x) %}<{{ caller(x) }}>{% endmacro %}{% call(y) w(5) %}got {{ y }}"
           "{% endcall %}", NULL, "<got 5>");
    EXPECT("{% macro d(a, b=a * 2) %}{{ b }}{% endmacro %}{{ d(4) }}", NULL, "8");
    EXPECT("{% macro m(a) %}{{ a }}{% endmacro %}{{ m.name }}{{ m.arguments }}", NULL,
           "m('a',)");
    EXPECT("{% filter upper %}a{{ 'b' }}{% endfilter %}{% set s %} c {% endset %}[{{ s }}]"
           "{% set t | trim | upper %} d {% endset %}{{ t }}", NULL, "AB[ c ]D");
    EXPECT("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}", NULL, "3");
    EXPECT_ERR("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", NULL,
               "1:34: macro 'm' takes not more than 1 argument(s)");
    EXPECT_ERR("{% macro m(a) %}{% endmacro %}{{ m(b=1) }}", NULL,
               "1:34: macro 'm' takes no keyword argument 'b'");
}

TEST(jinja_filters) {
    EXPECT("{{ '  a  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'ab'|upper }}|{{ 'AB'|lower }}|"
           "{{ 'hello world'|title }}|{{ 'hELLO'|capitalize }}|{{ 'aXa'|replace('a', '-') }}",
           NULL, "a|a|AB|ab|Hello World|Hello|-X-");
    EXPECT("{{ [3, 1, 2]|sort }}{{ ['b', 'A', 'c']|sort }}{{ [{'a': 2}, {'a': 1}]|sort("
           "attribute='a')|map(attribute='a')|list }}{{ [1, 2]|sort(reverse=true) }}", NULL,
           "[1, 2, 3]['A', 'b', 'c'][1, 2][2, 1]");
    EXPECT("{{ [1, 2, 2, 1]|unique|list }}{{ [1, 2, 3]|reverse|list }}{{ 'abc'|reverse }}"
           "{{ [1, 2]|first }}{{ [1, 2]|last }}{{ []|first is defined }}", NULL,
           "[1, 2][3, 2, 1]cba12False");
    EXPECT("{{ [1, 2, 3, 4]|select('odd')|list }}{{ [1, 2, 3]|reject('odd')|list }}"
           "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|first }}"
           "{{ messages|rejectattr('role', 'in', ['user', 'system'])|list|length }}",
           conv, "[1, 3][2]Hi <|im_end|> there1");
    EXPECT("{{ [1, 2, 3, 4, 5]|batch(2)|list }}{{ [4, 2, 8]|min }}{{ [4, 2, 8]|max }}"
           "{{ [1, 2.5]|sum }}{{ 'a b  c'|wordcount }}{{ 'ab'|center(6) }}|", NULL,
           "[[1, 2], [3, 4], [5]]283.53  ab  |");
    EXPECT("{{ x|default('d') }}{{ ''|default('e') }}{{ ''|default('f', true) }}"
           "{{ none|default('g') }}{{ 'abc'|length }}{{ 'héllo'|length }}{{ {'a': 1}|length }}",
           NULL, "dfNone351");
    EXPECT("{{ '42'|int }}{{ '4.7'|int }}{{ 'x'|int(7) }}{{ 3.9|int }}{{ '2.5'|float }}"
           "{{ -3|abs }}{{ 2.5|round }}{{ 3.14159|round(2) }}{{ 1.5|round(0, 'floor') }}",
           NULL, "424732.532.03.141.0");
    EXPECT("{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent("
           "2, blank=true) }}", NULL, "a\n  b\n\n  c|  a\n  b|a\n  \n  b");
    EXPECT("{{ {'b': 1, 'a': 2}|dictsort }}{{ {'x': 1}|items|list }}{{ ['a', 'b']|join('-') }}"
           "{{ [{'n': 1}, {'n': 2}]|join(',', attribute='n') }}", NULL,
           "[('a', 2), ('b', 1)][('x', 1)]a-b1,2");
    EXPECT("{{ 'foo bar baz qux'|truncate(9) }}|{{ 'foo bar baz qux'|truncate(9, true) }}", NULL,
           "foo...|foo ba...");
    EXPECT("{{ '<a>&\\'\"'|escape }}|{{ ('<b>'|safe) + '<i>' }}|{{ '<i>' + ('<b>'|safe) }}|"
           "{{ ('x'|safe) ~ '<y>' }}", NULL, "&lt;a&gt;&amp;&#39;&#34;|<b>&lt;i&gt;|&lt;i&gt;<b>|x<y>");
    EXPECT("{{ ['a', 'b']|map('upper')|join }}{{ range(3)|list }}{{ range(5, 0, -2)|list }}"
           "{{ dict(a=1) }}{{ 5|string }}{{ 'abc'|list }}", NULL,
           "AB[0, 1, 2][5, 3, 1]{'a': 1}5['a', 'b', 'c']");
}

TEST(jinja_tojson) {
    EXPECT("{{ [1, 'a', none, true, 1.5, {'k': []}]|tojson }}", NULL,
           "[1, \"a\", null, true, 1.5, {\"k\": []}]");
    EXPECT("{{ {'a': 1, 'b': [1, 2]}|tojson(indent=2) }}", NULL,
           "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2\n  ]\n}");
    EXPECT("{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}", NULL, "{\"a\": 2, \"b\": 1}");
    EXPECT("{{ {'a': [1, 2]}|tojson(separators=(',', ':')) }}", NULL, "{\"a\":[1,2]}");
    EXPECT("{{ 'é\\n\"\\\\\\x01'|tojson }}", NULL, "\"é\\n\\\"\\\\\\u0001\"");
    EXPECT("{{ 'é😀'|tojson(ensure_ascii=true) }}", NULL, "\"\\u00e9\\ud83d\\ude00\"");
    EXPECT("{{ {}|tojson(indent=2) }}{{ {'a': {}}|tojson(indent='\\t') }}", NULL,
           "{}{\n\t\"a\": {}\n}");
    EXPECT("{{ {1: 'x', none: 2, true: 3, 1.5: 4}|tojson }}{{ (1, 2)|tojson }}{{ 1e-05|tojson }}",
           NULL, "{\"1\": 3, \"null\": 2, \"1.5\": 4}[1, 2]1e-05");
    EXPECT("{{ messages[1]|tojson }}", conv,
           "{\"role\": \"user\", \"content\": \"Hi <|im_end|> there\"}");
    EXPECT_ERR("{{ x|tojson }}", NULL, "1:6: Object of type Undefined is not JSON serializable");
    EXPECT_ERR("{{ [1]|map('string')|tojson }}", NULL,
               "1:22: Object of type generator is not JSON serializable");
}

TEST(jinja_python) {
    EXPECT("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }}",
           NULL, "3 -4 2 3.5 1024 0.5");
    EXPECT("{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 1e-5 }} {{ 0.0001 }} {{ 3.0 }} {{ -0.0 }}",
           NULL, "0.30000000000000004 1e+16 1000000000000000.0 1e-05 0.0001 3.0 -0.0");
    EXPECT("{{ none }} {{ true }} {{ [1, 'a', none] }} {{ {'a': (1,)} }} {{ \"it's\" }} {{ ["
           "\"it's\"] }}", NULL, "None True [1, 'a', None] {'a': (1,)} it's [\"it's\"]");
    EXPECT("{{ 'abcdef'[1:4] }}{{ 'abcdef'[::-1] }}{{ 'héllo'[1:3] }}{{ [1, 2, 3][-1] }}"
           "{{ 'abc'[5:1:-1] }}", NULL, "bcdfedcbaél3c");
    EXPECT("{{ '%s is %d' % ('x', 4) }}|{{ '%05.2f' % 3.14159 }}|{{ '%-4s|' % 'a' }}|"
           "{{ '%(a)s' % {'a': 1} }}|{{ '%x' % 255 }}", NULL, "x is 4|03.14|a   ||1|ff");
    EXPECT("{{ '{} {}'.format(1, 'b') }}|{{ '{x:>4}'.format(x=7) }}|{{ '{:.2f}'.format(2) }}|"
           "{{ '{:,}'.format(1234567) }}", NULL, "1 b|   7|2.00|1,234,567");
    EXPECT("{{ ' a b '.split() }}{{ 'a,b'.split(',') }}{{ 'a b c'.split(' ', 1) }}"
           "{{ 'a b c'.rsplit(' ', 1) }}{{ 'x'.startswith(('a', 'x')) }}{{ 'abc'.find('c') }}",
           NULL, "['a', 'b']['a', 'b']['a', 'b c']['a b', 'c']True2");
    EXPECT("{{ ' x '.strip() }}{{ '--x'.lstrip('-') }}{{ 'x--'.rstrip('-') }}{{ 'they\\'re'"
           ".title() }}{{ 'a'.upper() }}{{ 'a-b'.replace('-', '+') }}", NULL,
           "xxxThey'ReAa+b");
    EXPECT("{{ 1 < 2 < 3 }}{{ 1 == 1.0 }}{{ (1, 2) == [1, 2] }}{{ 'a' in 'cat' }}"
           "{{ 2 not in [1] }}{{ 1 if 0 else 2 }}{{ 0 or 'b' }}{{ 1 and 2 }}", NULL,
           "TrueTrueFalseTrueTrue2b2");
    EXPECT("{{ 'ab' * 2 }}{{ [1] + [2] }}{{ 'a' ~ 1 ~ none ~ x }}{{ -(2) }}{{ 2 ** 3 ** 2 }}",
           NULL, "abab[1, 2]a1None-264"); /* ** is left-associative in jinja2 */
    EXPECT("{{ {'a': 1}.get('b', 5) }}{{ {'a': 1}.a }}{{ {'a': 1}['a'] }}{{ [1, 2].index(2) }}"
           "{{ {'a': 1}.keys()|list }}", NULL, "5111['a']");
    EXPECT("{{ 1 is number }}{{ true is integer }}{{ 'a' is string }}{{ {} is mapping }}"
           "{{ [] is sequence }}{{ x is iterable }}{{ 9 is divisibleby 3 }}{{ none is none }}"
           "{{ 1 is eq 1 }}{{ 'upper' is filter }}", NULL,
           "TrueFalseTrueTrueTrueTrueTrueTrueTrueTrue");
    EXPECT("{{ strftime_now('%Y-%m-%d %H:%M %A %B %b %a %j %y %e %p %I') }}|"
           "{{ strftime_now('%d %b %Y') }}", NULL,
           "2026-12-01 12:00 Tuesday December Dec Tue 335 26  1 PM 12|01 Dec 2026");
}

TEST(jinja_undefined) {
    /* jinja2's default Undefined: prints empty, is false, iterates as empty... */
    EXPECT("[{{ x }}]{{ x is defined }}{{ not x }}{% for i in x %}no{% endfor %}{{ x|length }}"
           "{{ x|default('d') }}{{ x ~ 'a' }}{{ x == y }}{{ 'a' in x }}", NULL,
           "[]FalseTrue0daTrueFalse");
    EXPECT("{{ {}.a is defined }}{{ none.a is defined }}{{ messages[9] is defined }}", conv,
           "FalseFalseFalse");
    /* ...and fails when used further */
    EXPECT_ERR("{{ x.y }}", NULL, "1:5: 'x' is undefined");
    EXPECT_ERR("{{ {}.a.b }}", NULL, "1:8: 'dict object' has no attribute 'a'");
    EXPECT_ERR("{{ x() }}", NULL, "1:4: 'x' is undefined");
    EXPECT_ERR("{{ x + 1 }}", NULL, "1:6: 'x' is undefined");
    EXPECT_ERR("{{ 'a' + x }}", NULL, "1:8: 'x' is undefined");
    EXPECT_ERR("{{ [][0].a }}", NULL, "1:9: list object has no element 0");
    EXPECT_ERR("{{ 'a' + none }}", NULL, "1:8: can only concatenate str (not \"NoneType\") to str");
    EXPECT_ERR("{{ [].append(1) }}", NULL,
               "1:6: access to attribute 'append' of 'list' object is unsafe.");
    EXPECT_ERR("{{ {}.update({}) }}", NULL,
               "1:6: access to attribute 'update' of 'dict' object is unsafe.");
}

TEST(jinja_errors) {
    struct {
        const char *src, *err;
    } cases[] = {
        {"{% if x %}", "1:11: Unexpected end of template. Jinja was looking for the following "
                       "tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be "
                       "closed is 'if'."},
        {"{% for x in y %}\n{% endif %}", "2:4: Encountered unknown tag 'endif'. Jinja was "
                                          "looking for the following tags: 'endfor' or 'else'. "
                                          "The innermost block that needs to be closed is "
                                          "'for'."},
        {"{{ 1 + }}", "1:8: unexpected 'end of print statement'"},
        {"a\n  {{ x y }}", "2:8: expected token 'end of print statement', got 'y'"},
        {"{% frob %}", "1:4: Encountered unknown tag 'frob'."},
        {"{{ x|nosuchfilter }}", "1:6: No filter named 'nosuchfilter'."},
        {"{{ x is nosuchtest }}", "1:6: No test named 'nosuchtest'."},
        {"{% break %}", "1:4: 'break' outside loop"},
        {"{{ 'abc }}", "1:4: unexpected char \"'\""},
        {"{{ (1 }}", "1:7: unexpected '}', expected ')'"},
        {"{# open", "1:1: Missing end of comment tag"},
        {"{% raw %}x", "1:1: Missing end of raw directive"},
        {"{% set 1 = 2 %}", "1:8: can't assign to 'const'"},
        {"{{ @ }}", "1:4: unexpected char '@'"},
        {"{% macro m(a=1, b) %}{% endmacro %}", "1:17: non-default argument follows default "
                                                 "argument"},
        {"{% include 'x' %}", "1:4: 'include' is not supported (there is no template loader)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jinja_tmpl *t = NULL;
        char err[512];
        int rc = jinja_parse(cases[i].src, strlen(cases[i].src), &t, err, sizeof err);
        jinja_free(t);
        CHECK_MSG(rc == -1 && !t, "%s: parsed", cases[i].src);
        CHECK_MSG(!strcmp(err, cases[i].err), "%s:\n  got  [%s]\n  want [%s]", cases[i].src, err,
                  cases[i].err);
    }
    /* unknown filters inside an if are errors only when evaluated (jinja2 3.x) */
    EXPECT("{% if false %}{{ x|from_json }}{% endif %}ok", NULL, "ok");
    EXPECT_ERR("{% if true %}{{ x|from_json }}{% endif %}", NULL,
               "1:19: No filter named 'from_json' found.");
    /* runtime errors: the template's raise_exception and Python's words */
    EXPECT_ERR("line\n  {{ raise_exception('System role not supported') }}", NULL,
               "2:6: System role not supported");
    EXPECT_ERR("{{ 1 / 0 }}", NULL, "1:6: division by zero");
    EXPECT_ERR("{% for a, b in [1] %}{% endfor %}", NULL,
               "1:8: cannot unpack non-iterable int object");
    EXPECT_ERR("{{ '%d' % 'a' }}", NULL, "1:9: %d format: a real number is required, not str");
    /* any bytes parse or fail cleanly: NUL, invalid UTF-8 */
    struct jinja_out o;
    jinja_tmpl *t;
    CHECK(jinja_parse("a\0b\xff{{ '\xc3' }}", 13, &t, errbuf, sizeof errbuf) == 0);
    CHECK(jinja_render(t, NULL, &o, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(o.len, 5);
    CHECK(!memcmp(o.text, "a\0b\xff\xc3", 5));
    jinja_out_free(&o);
    jinja_free(t);
}

TEST(jinja_limits) {
    struct jinja_limits lim = jinja_default_limits();
    struct jinja_out o;
    lim.max_output = 1000;
    CHECK(render_full("{% for i in range(2000) %}x{% endfor %}", NULL, 0, &lim, &o) == -1);
    CHECK_STR_EQ(errbuf, "1:27: text longer than 1000 bytes (the output limit)");
    lim = jinja_default_limits();
    lim.max_steps = 100000;
    CHECK(render_full("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                      "{% endfor %}", NULL, 0, &lim, &o) == -1);
    CHECK(strstr(errbuf, "template takes too long (more than 100000 steps)"));
    lim = jinja_default_limits();
    lim.max_memory = 4u << 20;
    CHECK(render_full("{% set ns = namespace(s='x') %}{% for i in range(40) %}"
                      "{% set ns.s = ns.s ~ ns.s %}{% endfor %}", NULL, 0, &lim, &o) == -1);
    CHECK(strstr(errbuf, "memory limit reached") || strstr(errbuf, "output limit"));
    CHECK(render_full("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", NULL, 0, NULL,
                      &o) == -1);
    CHECK(strstr(errbuf, "maximum recursion depth exceeded (1000 levels)"));
    CHECK(render_full("{{ range(100001)|length }}", NULL, 0, NULL, &o) == -1);
    CHECK_STR_EQ(errbuf, "1:4: Range too big. The sandbox blocks ranges larger than MAX_RANGE "
                         "(100000).");
    /* nesting bounds in the parser: brackets, blocks, long operator chains */
    char *deep = malloc(4096);
    CHECK(deep);
    strcpy(deep, "{{ ");
    for (int i = 0; i < 300; i++)
        strcat(deep, "(");
    strcat(deep, "1");
    for (int i = 0; i < 300; i++)
        strcat(deep, ")");
    strcat(deep, " }}");
    CHECK(render_full(deep, NULL, 0, NULL, &o) == -1);
    CHECK(strstr(errbuf, "nested too deeply"));
    deep[0] = 0;
    for (int i = 0; i < 250; i++)
        strcat(deep, "{%if 1%}");
    CHECK(render_full(deep, NULL, 0, NULL, &o) == -1);
    CHECK(strstr(errbuf, "nested too deeply"));
    free(deep);
    size_t n = 200000; /* 1+1+1...: a left-deep tree that must not be built */
    char *chain = malloc(n * 2 + 16), *p = chain;
    CHECK(chain);
    p += sprintf(p, "{{ 1");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "+1");
    sprintf(p, " }}");
    CHECK(render_full(chain, NULL, 0, NULL, &o) == -1);
    CHECK(strstr(errbuf, "nested too deeply"));
    free(chain);
}

TEST(jinja_origin) {
    /* the message's "<|im_end|>" is data; the template's own is template text; bos_token is
     * set as template text (the model's control token) */
    const char *src = "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n"
                      "{{ m.content }}<|im_end|>\n{% endfor %}";
    jinja_tmpl *t;
    CHECK(jinja_parse(src, strlen(src), &t, errbuf, sizeof errbuf) == 0);
    jinja_ctx *c = jinja_ctx_new();
    CHECK(c);
    CHECK(jinja_ctx_set_json_vars(c, conv, strlen(conv), 0, errbuf, sizeof errbuf) == 0);
    CHECK(jinja_ctx_set_str(c, "bos_token", "<s>", 3, JINJA_ORIGIN_TEMPLATE) == 0);
    struct jinja_out o;
    CHECK(jinja_render(t, c, &o, errbuf, sizeof errbuf) == 0);
    const char *want = "<s><|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n"
                       "Hi <|im_end|> there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n";
    CHECK_STR_EQ(o.text, want);
    /* the origin of every byte, T (template) or D (data) */
    const char *org = "TTTTTTTTTTTTTTTDDDDDDTDDDDDDDDDTTTTTTTTTTTTTTTTTTTTTTTDDDDTDDDDDDDDDDDDDDDD"
                      "DDDTTTTTTTTTTTTTTTTTTTTTTTDDDDDDDDDTDDDDDDTTTTTTTTTTT";
    CHECK_EQ_INT(o.len, strlen(org));
    for (size_t i = 0; i < o.len; i++)
        CHECK_MSG((o.origin[i] == JINJA_ORIGIN_DATA) == (org[i] == 'D'),
                  "byte %zu ('%c'): origin %d", i, o.text[i], o.origin[i]);
    /* runs */
    CHECK_EQ_INT(jinja_out_run(&o, 0), 15);
    CHECK_EQ_INT(jinja_out_run(&o, 15), 6);
    CHECK_EQ_INT(jinja_out_run(&o, o.len), 0);
    jinja_out_free(&o);
    /* trusted roles: the caller vouches for them, so '<|' + role + '|>' is all template */
    CHECK(jinja_ctx_set_json_vars(c, conv, strlen(conv), JINJA_JSON_ROLES_TRUSTED, errbuf,
                                  sizeof errbuf) == 0);
    jinja_tmpl *t2;
    const char *src2 = "{{ '<|' + messages[1].role + '|>' }}{{ messages[1].content[:2] }}";
    CHECK(jinja_parse(src2, strlen(src2), &t2, errbuf, sizeof errbuf) == 0);
    CHECK(jinja_render(t2, c, &o, errbuf, sizeof errbuf) == 0);
    CHECK_STR_EQ(o.text, "<|user|>Hi");
    for (size_t i = 0; i < 8; i++)
        CHECK_EQ_INT(o.origin[i], JINJA_ORIGIN_TEMPLATE);
    CHECK_EQ_INT(o.origin[8], JINJA_ORIGIN_DATA);
    CHECK_EQ_INT(o.origin[9], JINJA_ORIGIN_DATA);
    jinja_out_free(&o);
    jinja_free(t2);
    jinja_free(t);
    jinja_ctx_free(c);
    /* operations keep the marks: data stays data after upper, replace, join, tojson, format */
    CHECK(render_full("{{ messages[1].content|upper|replace('THERE', 'x') }}|"
                      "{{ messages|map(attribute='role')|join(',') }}|{{ messages[2]|tojson }}|"
                      "{{ '%s!' % messages[2].content }}|{{ messages[0].content.split()[1] }}",
                      conv, 0, NULL, &o) == 0);
    const char *want3 = "HI <|IM_END|> x|system,user,assistant|"
                        "{\"role\": \"assistant\", \"content\": \"Hello!\"}|Hello!!|brief.";
    CHECK_STR_EQ(o.text, want3);
    const char *org3 = "DDDDDDDDDDDDDDTTDDDDDDTDDDDTDDDDDDDDDTTTDDDDTTTTDDDDDDDDDTTTTDDDDDDDTTTTDD"
                       "DDDDTTTDDDDDDTTDDDDDD";
    CHECK_EQ_INT(o.len, strlen(org3));
    for (size_t i = 0; i < o.len; i++)
        CHECK_MSG((o.origin[i] == JINJA_ORIGIN_DATA) == (org3[i] == 'D'),
                  "byte %zu ('%c'): origin %d", i, o.text[i], o.origin[i]);
    jinja_out_free(&o);
}

TEST(jinja_json_vars) {
    EXPECT("{{ a }}|{{ b }}|{{ c }}|{{ d }}|{{ e }}|{{ f|length }}",
           "{\"a\": \"\\u00e9\\ud83d\\ude00\\n\", \"b\": 12345678901234567890, \"c\": -0,"
           " \"d\": 1.5e3, \"e\": {\"k\": 1, \"k\": 2, \"j\": [true, null]},"
           " \"f\": \"\\ud800x\"}",
           "é😀\n|1.2345678901234567e+19|0|1500.0|{'k': 2, 'j': [True, None]}|2");
    jinja_ctx *c = jinja_ctx_new();
    CHECK(c);
    CHECK(jinja_ctx_set_json(c, "x", "[1,", 3, 0, errbuf, sizeof errbuf) == -1);
    CHECK_STR_EQ(errbuf, "invalid JSON at line 1, column 4");
    CHECK(jinja_ctx_set_json_vars(c, "[1]", 3, 0, errbuf, sizeof errbuf) == -1);
    CHECK_STR_EQ(errbuf, "expected a JSON object");
    CHECK(!jinja_ctx_has(c, "x"));
    CHECK(jinja_ctx_set_none(c, "x") == 0 && jinja_ctx_has(c, "x"));
    jinja_ctx_free(c);
}

/* ---- ../shared/chat-templates/jinja-hf.ref: every case, byte for byte ---- */

static size_t ref_unescape(const char *s, char *out) {
    size_t o = 0;
    while (*s) {
        if (s[0] == '\\' && s[1]) {
            char e = s[1];
            if (e == '\\' || e == 'n' || e == 't' || e == 'r') {
                out[o++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : '\\';
                s += 2;
                continue;
            }
            if (e == 'x' && s[2] && s[3]) {
                char hex[3] = {s[2], s[3], 0};
                out[o++] = (char)strtol(hex, NULL, 16);
                s += 4;
                continue;
            }
        }
        out[o++] = *s++;
    }
    out[o] = 0;
    return o;
}

struct ref_case {
    char name[256], tmpl[256], conv[256];
    char *args[16];
    int n_args, expect_ok;
    char *text;
    size_t text_len;
};

/* Renders one case the way `natter template render --jinja` does; NULL when it passes,
 * else why it failed (static). */
static const char *ref_run(const char *base, const struct ref_case *rc) {
    static char why[1400];
    char path[600];
    snprintf(path, sizeof path, "%s/%s", base, rc->tmpl);
    size_t tlen, clen;
    char *src = test_read_file(path, &tlen);
    snprintf(path, sizeof path, "%s/%s", base, rc->conv);
    char *json = test_read_file(path, &clen);
    jinja_tmpl *t = NULL;
    jinja_ctx *c = jinja_ctx_new();
    struct jinja_out o = {0};
    char err[1024];
    const char *res = why;
    snprintf(why, sizeof why, "cannot read the template or conversation");
    if (!src || !json || !c)
        goto out;
    if (jinja_parse(src, tlen, &t, err, sizeof err) ||
        jinja_ctx_set_json_vars(c, json, clen, 0, err, sizeof err)) {
        snprintf(why, sizeof why, "%s", err);
        goto out;
    }
    int gen = 1;
    for (int i = 0; i < rc->n_args; i++) {
        const char *a = rc->args[i], *v = i + 1 < rc->n_args ? rc->args[i + 1] : "";
        if (!strcmp(a, "--no-assistant")) {
            gen = 0;
            continue;
        }
        i++;
        if (!strcmp(a, "--bos") || !strcmp(a, "--eos"))
            jinja_ctx_set_str(c, a[2] == 'b' ? "bos_token" : "eos_token", v, strlen(v),
                              JINJA_ORIGIN_TEMPLATE);
        else if (!strcmp(a, "--now")) {
            struct tm now = {0};
            int y, mo, d, h, mi, s;
            sscanf(v, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s);
            now.tm_year = y - 1900, now.tm_mon = mo - 1, now.tm_mday = d, now.tm_hour = h;
            now.tm_min = mi, now.tm_sec = s, now.tm_isdst = -1;
            mktime(&now);
            jinja_ctx_set_now(c, &now);
        } else if (!strcmp(a, "--var")) {
            const char *eq = strchr(v, '=');
            char name[64];
            snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - v) : 0, v);
            if (!eq || jinja_ctx_set_json(c, name, eq + 1, strlen(eq + 1), 0, err, sizeof err)) {
                snprintf(why, sizeof why, "--var %s: %s", v, err);
                goto out;
            }
        }
    }
    if (!jinja_ctx_has(c, "tools"))
        jinja_ctx_set_none(c, "tools");
    if (!jinja_ctx_has(c, "documents"))
        jinja_ctx_set_none(c, "documents");
    jinja_ctx_set_bool(c, "add_generation_prompt", gen);
    int r = jinja_render(t, c, &o, err, sizeof err);
    if (!rc->expect_ok) {
        if (r == 0)
            snprintf(why, sizeof why, "rendered; want the error '%s'", rc->text);
        else if (!strstr(err, rc->text))
            snprintf(why, sizeof why, "error '%s'; want '%s'", err, rc->text);
        else
            res = NULL;
        goto out;
    }
    if (r) {
        snprintf(why, sizeof why, "error: %s", err);
        goto out;
    }
    size_t i = 0;
    while (i < o.len && i < rc->text_len && o.text[i] == rc->text[i])
        i++;
    if (i == o.len && i == rc->text_len)
        res = NULL;
    else
        snprintf(why, sizeof why, "byte %zu differs (want %zu bytes, got %zu): got [%.40s]", i,
                 rc->text_len, o.len, o.text + (i > 10 ? i - 10 : 0));
out:
    jinja_out_free(&o);
    jinja_ctx_free(c);
    jinja_free(t);
    free(src);
    free(json);
    return res;
}

static void ref_flush(const char *base, struct ref_case *rc, int *n, int *n_pass, char *first,
                      size_t first_len) {
    const char *why = rc->text ? ref_run(base, rc) : "no out/err line";
    (*n)++;
    *n_pass += !why;
    if (why && !first[0])
        snprintf(first, first_len, "%s: %s", rc->name, why);
    for (int i = 0; i < rc->n_args; i++)
        free(rc->args[i]);
    free(rc->text);
}

TEST(jinja_hf_ref) {
    REQUIRE_SHARED();
    const char *ref = test_shared_path("chat-templates/jinja-hf.ref");
    char refpath[512];
    snprintf(refpath, sizeof refpath, "%s", ref);
    char *base = strdup(refpath);
    CHECK(base);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = 0;
    size_t len;
    char *text = test_read_file(refpath, &len);
    if (!text) {
        free(base);
        SKIP("no jinja-hf.ref");
    }
    struct ref_case rc;
    int have = 0, n = 0, n_pass = 0;
    char first_fail[800] = "";
    char *line = text;
    for (;;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        int is_case = !strncmp(line, "case ", 5);
        if (is_case && have) { /* the previous case is complete */
            ref_flush(base, &rc, &n, &n_pass, first_fail, sizeof first_fail);
            have = 0;
        }
        if (is_case) {
            memset(&rc, 0, sizeof rc);
            snprintf(rc.name, sizeof rc.name, "%s", line + 5);
            have = 1;
        } else if (have && !strncmp(line, "template ", 9))
            snprintf(rc.tmpl, sizeof rc.tmpl, "%s", line + 9);
        else if (have && !strncmp(line, "conv ", 5))
            snprintf(rc.conv, sizeof rc.conv, "%s", line + 5);
        else if (have && !strncmp(line, "arg ", 4) && rc.n_args < 16) {
            char *a = malloc(strlen(line) + 1);
            ref_unescape(line + 4, a);
            rc.args[rc.n_args++] = a;
        } else if (have && !strncmp(line, "expect ", 7))
            rc.expect_ok = !strcmp(line + 7, "ok");
        else if (have && (!strncmp(line, "out ", 4) || !strncmp(line, "err ", 4))) {
            rc.text = malloc(strlen(line) + 1);
            rc.text_len = ref_unescape(line + 4, rc.text);
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    if (have)
        ref_flush(base, &rc, &n, &n_pass, first_fail, sizeof first_fail);
    free(text);
    free(base);
    CHECK_MSG(n == 386, "%d cases in jinja-hf.ref, want 386", n);
    CHECK_MSG(n_pass == n, "%d/%d cases pass; first failure: %s", n_pass, n, first_fail);
}
