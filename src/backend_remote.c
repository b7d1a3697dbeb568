/* src/backend_remote.c — the remote backend (backend.h): a conversation sent as is to an
 * OpenAI-compatible server through src/remote.h, which writes the frames from its own
 * transfer thread; the server renders it with its own template and separates the reasoning.
 * It cannot count tokens (no fitting: the server refuses a prompt too long with a one-line
 * error) nor continue a stopped reply. Called from the thread that owns the backend. */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

struct backend_remote {
    struct backend base;
    char *url, *model, *api_key;
    int timeout_s;
    struct remote_gen *gen;
};

static struct backend_remote *br_of(const struct backend *b) {
    return (struct backend_remote *)b;
}

static struct remote_endpoint br_endpoint(const struct backend_remote *r) {
    return (struct remote_endpoint){r->url, r->model, r->api_key, r->timeout_s};
}

static int br_start(struct backend *b, const struct backend_request *rq, int fd, uint32_t gen_id,
                    struct backend_started *st, char *err, size_t err_len) {
    struct backend_remote *r = br_of(b);
    (void)st; /* the server's reasoning comes apart: never inside */
    struct remote_msg *m = malloc((size_t)(rq->n_msgs + 1) * sizeof *m);
    if (!m) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (int i = 0; i < rq->n_msgs; i++)
        m[i] = (struct remote_msg){rq->msgs[i].role, rq->msgs[i].content,
                                   rq->msgs[i].content_len};
    const struct app_settings *set = rq->set;
    struct remote_request q = {
        .msgs = m, .n_msgs = rq->n_msgs, .prompt = rq->prompt, .prompt_len = rq->prompt_len,
        .sample = &set->sample, .n_predict = set->n_predict, .stop = rq->stop,
        .n_stop = rq->n_stop,
        .think = set->think ? -1 : 0, /* only "off" is sent: a server's default is to think */
    };
    struct remote_endpoint ep = br_endpoint(r);
    int rc = remote_start(&ep, &q, fd, gen_id, &r->gen, err, err_len);
    free(m);
    return rc;
}

static void br_cancel(struct backend *b) { remote_gen_cancel(br_of(b)->gen); }

static int br_join(struct backend *b) {
    struct backend_remote *r = br_of(b);
    int rc = remote_gen_join(r->gen);
    r->gen = NULL;
    return rc;
}

static int br_models(struct backend *b, char ***names, int *n, char *err, size_t err_len) {
    struct remote_endpoint ep = br_endpoint(br_of(b));
    return remote_models_list(&ep, names, n, err, err_len);
}

static void br_free(struct backend *b) {
    struct backend_remote *r = br_of(b);
    free(r->url);
    free(r->model);
    free(r->api_key);
    free(r);
}

static const struct backend_ops br_ops = {
    .kind = "remote",
    .start = br_start,
    .cancel = br_cancel,
    .join = br_join,
    .models = br_models,
    .free = br_free,
};

static int br_dup(char **dst, const char *src) {
    free(*dst);
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? -1 : 0;
}

int backend_remote_new(const struct remote_endpoint *ep, struct backend **out, char *err,
                       size_t err_len) {
    *out = NULL;
    struct backend_remote *r = calloc(1, sizeof *r);
    if (!r || br_dup(&r->url, ep->url) || br_dup(&r->model, ep->model) ||
        br_dup(&r->api_key, ep->api_key)) {
        if (r)
            br_free(&r->base);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    r->base.ops = &br_ops;
    r->timeout_s = ep->timeout_s;
    *out = &r->base;
    return 0;
}

int backend_remote_set_model(struct backend *b, const char *model) {
    return b->ops == &br_ops ? br_dup(&br_of(b)->model, model) : -1;
}

const char *backend_remote_model(const struct backend *b) {
    return b->ops == &br_ops ? br_of(b)->model : NULL;
}

void backend_remote_record(const struct backend *b, char *buf, size_t len) {
    const struct backend_remote *r = br_of(b);
    snprintf(buf, len, "%s@%s", r->model ? r->model : "default", r->url);
}
