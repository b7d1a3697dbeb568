/* ui/engine_weak.h — TEMPORARY, while the engine is built in parallel: the engine entry points
 * the chat uses are weak references, so the chat links (and browses saved conversations) before
 * every part of the engine is on main. tui_engine_ready() says whether all of them are linked
 * in. Remove this header once engine/ implements engine.h. UI thread only. */
#ifndef NATTER_UI_ENGINE_WEAK_H
#define NATTER_UI_ENGINE_WEAK_H

#include "engine.h"

#pragma weak eng_ctx_default_params
#pragma weak eng_ctx_free
#pragma weak eng_ctx_kv_bytes
#pragma weak eng_ctx_n_ctx
#pragma weak eng_ctx_n_past
#pragma weak eng_ctx_new
#pragma weak eng_frame_read
#pragma weak eng_gen_cancel
#pragma weak eng_gen_default_params
#pragma weak eng_gen_join
#pragma weak eng_gen_start
#pragma weak eng_last_error
#pragma weak eng_model_default_params
#pragma weak eng_model_free
#pragma weak eng_model_info_get
#pragma weak eng_model_load
#pragma weak eng_model_meta_str
#pragma weak eng_rss_bytes
#pragma weak eng_sample_default_params
#pragma weak eng_tokenize

static inline int tui_engine_ready(void) {
    return eng_ctx_default_params && eng_ctx_free && eng_ctx_kv_bytes && eng_ctx_n_ctx &&
           eng_ctx_n_past && eng_ctx_new && eng_frame_read && eng_gen_cancel &&
           eng_gen_default_params && eng_gen_join && eng_gen_start && eng_last_error &&
           eng_model_default_params && eng_model_free && eng_model_info_get && eng_model_load &&
           eng_model_meta_str && eng_rss_bytes && eng_sample_default_params && eng_tokenize;
}

#endif
