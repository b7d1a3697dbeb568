/* src/backend_remote.h — the remote OpenAI-compatible server (src/remote.h) as a backend
 * (src/backend.h): the conversation's messages are sent as they are (the server renders them
 * with its own template, so it counts nothing and fits nothing: the server's context error says
 * when it is too long), the session's sampling settings, length and thinking switch as request
 * fields; replies come with their reasoning already split (BACKEND_EV_REASONING). The models
 * are the server's /v1/models. Threads and errors as backend.h says. */
#ifndef NATTER_BACKEND_REMOTE_H
#define NATTER_BACKEND_REMOTE_H

#include <stddef.h>

#include "backend.h"
#include "remote.h"

/* A backend for ep (its strings copied). *out is new; 0, or -1 with err. */
int backend_remote_new(const struct remote_endpoint *ep, struct backend **out, char *err,
                       size_t err_len);
/* "MODEL@URL" (or the URL alone without a model) into buf: what a remote reply records as its
 * model. Returns buf. */
char *backend_remote_label(const struct remote_endpoint *ep, char *buf, size_t len);

#endif
