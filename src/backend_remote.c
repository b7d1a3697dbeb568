/* src/backend_remote.c — the remote server as a backend (see backend_remote.h). */
#include "backend_remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct backend_remote {
    struct backend base;
    char *url, *model, *key;
    int timeout_s;
    struct remote_gen *gen;
};

static struct backend_remote *br_of(const struct backend *b) {
    return (struct backend_remote *)b;
}

static struct remote_endpoint br_endpoint(const struct backend_remote *r) {
    struct remote_endpoint ep = {r->url, r->model, r->key, r->timeout_s};
    return ep;
}

static int br_count(struct backend *b, const struct backend_request *rq, char *err,
                    size_t err_len) {
    (void)b, (void)rq, (void)err, (void)err_len;
    return -2; /* the server renders and counts */
}

static int br_n_ctx(const struct backend *b) {
    (void)b;
    return 0;
}

static const struct reasoning_markers *br_markers(const struct backend *b) {
    (void)b;
    return NULL;
}

static int br_start(struct backend *b, const struct backend_request *rq, int fd, uint32_t gen_id,
                    struct backend_started *st, char *err, size_t err_len) {
    struct backend_remote *r = br_of(b);
    (void)st;
    struct remote_msg *msgs = NULL;
    if (rq->n_msgs > 0 && !(msgs = calloc((size_t)rq->n_msgs, sizeof *msgs))) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (int i = 0; i < rq->n_msgs; i++)
        msgs[i] = (struct remote_msg){rq->msgs[i].role, rq->msgs[i].content,
                                      rq->msgs[i].content_len};
    struct remote_request q = {msgs, rq->n_msgs, rq->prompt, rq->prompt_len,
                               rq->set ? &rq->set->sample : NULL,
                               rq->set ? rq->set->n_predict : 0, NULL, 0,
                               rq->set ? rq->set->think : -1};
    struct remote_endpoint ep = br_endpoint(r);
    int rc = remote_start(&ep, &q, fd, gen_id, &r->gen, err, err_len);
    free(msgs);
    return rc;
}

static void br_cancel(struct backend *b) {
    remote_gen_cancel(br_of(b)->gen); /* async-safe: a flag and a byte down a pipe */
}

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
    if (r->key)
        memset(r->key, 0, strlen(r->key));
    free(r->key);
    free(r->url);
    free(r->model);
    free(r);
}

static const struct backend_ops br_ops = {
    .kind = "remote",
    .count = br_count,
    .n_ctx = br_n_ctx,
    .markers = br_markers,
    .start = br_start,
    .cancel = br_cancel,
    .stop = br_cancel, /* no token boundary to stop at: the transfer ends */
    .join = br_join,
    .models = br_models,
    .free = br_free,
};

int backend_remote_new(const struct remote_endpoint *ep, struct backend **out, char *err,
                       size_t err_len) {
    *out = NULL;
    if (!ep || !ep->url || !*ep->url) {
        snprintf(err, err_len, "a remote backend needs a URL");
        return -1;
    }
    struct backend_remote *r = calloc(1, sizeof *r);
    if (!r || !(r->url = strdup(ep->url)) || (ep->model && !(r->model = strdup(ep->model))) ||
        (ep->api_key && !(r->key = strdup(ep->api_key)))) {
        if (r)
            br_free(&r->base);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    r->timeout_s = ep->timeout_s;
    r->base.ops = &br_ops;
    *out = &r->base;
    return 0;
}

char *backend_remote_label(const struct remote_endpoint *ep, char *buf, size_t len) {
    if (ep->model && *ep->model)
        snprintf(buf, len, "%s@%s", ep->model, ep->url);
    else
        snprintf(buf, len, "%s", ep->url);
    return buf;
}
