/* src/jinja.h — natter's Jinja engine: renders a model's `tokenizer.chat_template` the way
 * Hugging Face transformers does (jinja2 in an ImmutableSandboxedEnvironment, trim_blocks and
 * lstrip_blocks on, loop controls, {% generation %}, tojson as json.dumps, raise_exception,
 * strftime_now).
 *
 * Owns: parsed templates (jinja_tmpl), variable sets (jinja_ctx) and render results
 * (struct jinja_out); each has its own memory, freed by its _free function (which accepts
 * NULL). Templates are untrusted input: parsing and rendering are bounded (nesting depth,
 * steps, memory, output size; see struct jinja_limits) and never crash on any input.
 *
 * Origins: every byte of a rendering is marked as coming from the template's own text
 * (JINJA_ORIGIN_TEMPLATE) or from the variables' data (JINJA_ORIGIN_DATA), and operations on
 * strings (concatenation, slicing, strip, replace, tojson, ...) carry the marks along, so the
 * caller can let only template bytes become control tokens (tokenize data bytes as plain text).
 *
 * Errors: a function that fails returns -1 and writes one line to err (err_len bytes, always
 * NUL-terminated when err_len > 0): "LINE:COL: message" when it concerns a place in the
 * template (COL counts UTF-8 characters, both from 1), e.g. "12:5: System role not supported"
 * for the template's own raise_exception (whose message is kept as the template wrote it).
 *
 * Threads: none are started. A jinja_tmpl and a jinja_ctx are read-only during jinja_render,
 * so any number of threads may render the same template and context at once; changing a
 * context (jinja_ctx_set_*) must not overlap a render that uses it.
 *
 * Typical use (the chat core):
 *     jinja_tmpl *t; jinja_ctx *c = jinja_ctx_new(); struct jinja_out o;
 *     jinja_parse(text, len, &t, err, sizeof err);
 *     jinja_ctx_set_json_vars(c, conv_json, conv_len, JINJA_JSON_ROLES_TRUSTED, err, sizeof err);
 *     jinja_ctx_set_str(c, "bos_token", bos, strlen(bos), JINJA_ORIGIN_TEMPLATE);
 *     jinja_ctx_set_bool(c, "add_generation_prompt", 1);
 *     jinja_render(t, c, &o, err, sizeof err);
 *     for (size_t i = 0, n; i < o.len; i += n)   // runs of one origin
 *         n = jinja_out_run(&o, i), tokenize(o.text + i, n, o.origin[i] == JINJA_ORIGIN_TEMPLATE);
 *     jinja_out_free(&o); jinja_ctx_free(c); jinja_free(t);
 */
#ifndef NATTER_JINJA_H
#define NATTER_JINJA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct jinja_tmpl jinja_tmpl;
typedef struct jinja_ctx jinja_ctx;

enum { JINJA_ORIGIN_TEMPLATE = 0, JINJA_ORIGIN_DATA = 1 };

/* Bounds of one render (the parser's are fixed: JINJA_PARSE_*). */
struct jinja_limits {
    size_t max_output;   /* bytes of the rendering (16 MiB) */
    size_t max_memory;   /* bytes the render may allocate in all (512 MiB) */
    uint64_t max_steps;  /* expression/statement evaluations and items processed (100 M) */
    int max_depth;       /* nested evaluation: macro calls, recursive loops, nesting (1000) */
};
enum {
    JINJA_PARSE_DEPTH_MAX = 200,       /* blocks and expressions nested deeper: a parse error */
    JINJA_PARSE_MEMORY_MAX = 256 << 20 /* a parse needing more (a ~8 MiB template of tags) fails */
};

struct jinja_limits jinja_default_limits(void);

/* Parses len bytes of template text (NUL bytes allowed, any bytes accepted: invalid UTF-8 is
 * taken byte by byte). On success *out is a new template for jinja_free. On error *out is
 * NULL and err holds "LINE:COL: message" (jinja2's wording where it has one). */
int jinja_parse(const char *src, size_t len, jinja_tmpl **out, char *err, size_t err_len);
void jinja_free(jinja_tmpl *t);

/* A set of template variables; starts empty, with the real local time as strftime_now's
 * clock and jinja_default_limits(). NULL when out of memory. Setting a name again replaces
 * its value. */
jinja_ctx *jinja_ctx_new(void);
void jinja_ctx_free(jinja_ctx *c);

/* Flags of the JSON setters. */
enum {
    JINJA_JSON_TEMPLATE = 1,     /* strings get JINJA_ORIGIN_TEMPLATE (default: DATA) */
    JINJA_JSON_ROLES_TRUSTED = 2 /* ... except the value of every "role" member, which gets
                                  * TEMPLATE: the caller vouches for the roles it wrote, so
                                  * templates like Phi-3's '<|' + role + '|>' make a token */
};

/* name = the JSON value in json[0..len) (objects keep their member order; a member given
 * twice keeps its first place and last value, as Python's json.loads). The text must pass
 * json_syntax_check (else -1, "invalid JSON at line L, column C"); nesting is bounded by it.
 * Integers outside int64 become floats. -1 also when out of memory. */
int jinja_ctx_set_json(jinja_ctx *c, const char *name, const char *json, size_t len, int flags,
                       char *err, size_t err_len);
/* Every member of the JSON object in json[0..len) becomes a variable (a conversation
 * {"messages": [...], "tools": [...]}). -1 when the text is not a JSON object. */
int jinja_ctx_set_json_vars(jinja_ctx *c, const char *json, size_t len, int flags, char *err,
                            size_t err_len);
/* Typed setters: 0, or -1 when out of memory. origin: JINJA_ORIGIN_*. */
int jinja_ctx_set_str(jinja_ctx *c, const char *name, const char *s, size_t len, int origin);
int jinja_ctx_set_bool(jinja_ctx *c, const char *name, int value);
int jinja_ctx_set_none(jinja_ctx *c, const char *name);
/* 1 when name is set. */
int jinja_ctx_has(const jinja_ctx *c, const char *name);
/* The local time strftime_now formats (copied). */
void jinja_ctx_set_now(jinja_ctx *c, const struct tm *now);
void jinja_ctx_set_limits(jinja_ctx *c, const struct jinja_limits *l);

/* A rendering: text[len] (NUL-terminated, may contain NUL bytes) and origin[len], one
 * JINJA_ORIGIN_* per byte. Owned by the caller: jinja_out_free. */
struct jinja_out {
    char *text;
    unsigned char *origin;
    size_t len;
};

/* Renders t with the variables of c (which may be NULL: no variables). 0 with *out filled,
 * or -1 with out zeroed and err holding "LINE:COL: message": the template's raise_exception
 * message, a runtime error in jinja2's words where it has them ("'foo' is undefined"), or a
 * limit ("text longer than 16777216 bytes (the output limit)"). */
int jinja_render(const jinja_tmpl *t, const jinja_ctx *c, struct jinja_out *out, char *err,
                 size_t err_len);
void jinja_out_free(struct jinja_out *o);

/* The length of the run of bytes of one origin that starts at pos (0 when pos >= o->len). */
size_t jinja_out_run(const struct jinja_out *o, size_t pos);

#endif
