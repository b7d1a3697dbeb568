/* engine/tokenizer_pre.c — the BPE pre-tokenizers (see tokenizer_pre.h): the name table, the
 * regex lists (the same regexes llama.cpp's llama-vocab.cpp gives each pre type), llama.cpp's
 * hand-written splitters for the regexes it special-cases in unicode.cpp, and the splitting of
 * a text by each regex in turn. A loaded pre-tokenizer is read-only after pre_load; all
 * scratch memory is per pre_split call, so any thread may split at once. */
#include "tokenizer_pre.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "tokenizer_regex.h"
#include "unicode.h"

/* ---- the regexes of each pre type (llama-vocab.cpp's llm_tokenizer_bpe, 2026-09-28) ---- */

/* LLAMA3 */
static const char *const pre_rx_llama3[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* JAIS2 */
static const char *const pre_rx_jais2[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}",
    NULL,
};
/* DBRX SMAUG */
static const char *const pre_rx_dbrx[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* DEEPSEEK_LLM */
static const char *const pre_rx_deepseek_llm[] = {
    "[\r\n]",
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
    "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
    "\\s+$",
    "[一-龥ࠀ-一가-퟿]+",
    "\\p{N}+",
    NULL,
};
/* DEEPSEEK3_LLM HUNYUAN_DENSE JOYAI_LLM HY_V4 */
static const char *const pre_rx_deepseek3[] = {
    "\\p{N}{1,3}",
    "[一-龥぀-ゟ゠-ヿ]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* SPARK2_5 */
static const char *const pre_rx_spark2_5[] = {
    "\\p{N}{1,3}",
    "[一-龥぀-ゟ゠-ヿ]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+",
    "\\p{N}",
    NULL,
};
/* YOUTU */
static const char *const pre_rx_youtu[] = {
    "[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+",
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* DEEPSEEK_CODER */
static const char *const pre_rx_deepseek_coder[] = {
    "[\r\n]",
    "\\s?\\p{L}+",
    "\\s?\\p{P}+",
    "[一-龥ࠀ-一가-퟿]+",
    "\\p{N}",
    NULL,
};
/* FALCON */
static const char *const pre_rx_falcon[] = {
    "[\\p{P}\\$\\+<=>\\^~\\|`]+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    "[0-9][0-9][0-9]",
    NULL,
};
/* STARCODER REFACT COMMAND_R SMOLLM CODESHELL EXAONE MINERVA MELLUM2 */
static const char *const pre_rx_starcoder[] = {
    "\\p{N}",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    NULL,
};
/* GPT2 MPT OLMO JAIS TRILLION GRANITE_DOCLING */
static const char *const pre_rx_gpt2[] = {
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    NULL,
};
/* STABLELM2 QWEN2 HUNYUAN SOLAR_OPEN */
static const char *const pre_rx_qwen2[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* QWEN35 */
static const char *const pre_rx_qwen35[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* PORO BLOOM GPT3_FINNISH */
static const char *const pre_rx_poro[] = {
    " ?[^(\\s|.,!?…。，、।۔،)]+",
    NULL,
};
/* CHATGLM4 */
static const char *const pre_rx_chatglm4[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* VIKING */
static const char *const pre_rx_viking[] = {
    " ?[^(\\s|.,!?…。，、।۔،)]+",
    "\\p{N}",
    NULL,
};
/* TEKKEN */
static const char *const pre_rx_tekken[] = {
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* CHAMELEON */
static const char *const pre_rx_chameleon[] = {
    "<sentinel:[0-9]+>",
    "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
    "([\\t\\n]|    |  )",
    "\\p{N}",
    "[\\p{P}!-/:-@\\[-`{-~]",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    NULL,
};
/* GPT4O MINIMAX_M2 */
static const char *const pre_rx_gpt4o[] = {
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* GRANITE_EMB_MULTI */
static const char *const pre_rx_granite_emb_multi[] = {
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* TINY_AYA */
static const char *const pre_rx_tiny_aya[] = {
    "\\d{1,3}(?=(?:\\d{3})*\\b)",
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* KIMI_K2 */
static const char *const pre_rx_kimi_k2[] = {
    "\\p{Han}+",
    NULL,
};
/* SUPERBPE */
static const char *const pre_rx_superbpe[] = {
    "\\p{N}+",
    "(?=(\\d{3})+(?!\\d))",
    NULL,
};
/* BAILINGMOE */
static const char *const pre_rx_bailingmoe[] = {
    "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
    NULL,
};
/* SEED_CODER */
static const char *const pre_rx_seed_coder[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* UFAKZEKA */
static const char *const pre_rx_ufakzeka[] = {
    "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* GROK_2 */
static const char *const pre_rx_grok_2[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* AFMOE */
static const char *const pre_rx_afmoe[] = {
    "\\p{AFMoE_digits}",
    "[一-鿿㐀-䶿豈-﫿぀-ゟ゠-ヿ･-ﾟ⼀-⿟เ-๿຀-໿ក-៿က-႟ꩠ-ꩿꧠ-꧿가-힯ᄀ-ᇿ]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* LAGUNA */
static const char *const pre_rx_laguna[] = {
    "[^\\n]+|[\\n]+",
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* EXAONE_MOE */
static const char *const pre_rx_exaone_moe[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
    NULL,
};
/* GEMMA4 */
static const char *const pre_rx_gemma4[] = {
    "[^\\n]+|[\\n]+",
    NULL,
};
/* SARVAM_MOE */
static const char *const pre_rx_sarvam_moe[] = {
    "[^\\n]+|[\\n]+",
    NULL,
};
/* MINICPM5 */
static const char *const pre_rx_minicpm5[] = {
    "\\p{N}{1,3}",
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* WHITESPACE */
static const char *const pre_rx_whitespace[] = {
    "\\S+",
    NULL,
};
/* DEFAULT */
static const char *const pre_rx_default[] = {
    "[\\p{P}\\$\\+<=>\\^~\\|]+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    "\\p{N}+",
    "[0-9][0-9][0-9]",
    NULL,
};

/* ---- names ---- */

struct pre_def {
    const char *name;
    const char *const *rx;
    unsigned flags;
};

#define PRE_LLAMA3_FLAGS (PRE_IGNORE_MERGES | PRE_ADD_BOS)
#define PRE_SPM_BPE (PRE_RAW_UTF8 | PRE_ESCAPE_SPACE)

/* Every tokenizer.ggml.pre value llama.cpp accepts, in its order; aliases share a regex list. */
static const struct pre_def pre_defs[] = {
    {"default", pre_rx_default, 0},
    {"minicpm5", pre_rx_minicpm5, PRE_IGNORE_MERGES},
    {"llama3", pre_rx_llama3, PRE_LLAMA3_FLAGS},
    {"llama-v3", pre_rx_llama3, PRE_LLAMA3_FLAGS},
    {"llama-bpe", pre_rx_llama3, PRE_LLAMA3_FLAGS},
    {"falcon3", pre_rx_llama3, PRE_LLAMA3_FLAGS},
    {"falcon-h1", pre_rx_llama3, PRE_LLAMA3_FLAGS},
    {"pixtral", pre_rx_llama3, PRE_LLAMA3_FLAGS},
    {"midm-2.0", pre_rx_llama3, PRE_LLAMA3_FLAGS},
    {"lfm2", pre_rx_llama3, PRE_LLAMA3_FLAGS},
    {"jina-v5-nano", pre_rx_llama3, PRE_LLAMA3_FLAGS},
    {"deepseek-llm", pre_rx_deepseek_llm, 0},
    {"deepseek-coder", pre_rx_deepseek_coder, 0},
    {"deepseek-v3", pre_rx_deepseek3, 0},
    {"spark2_5", pre_rx_spark2_5, 0},
    {"youtu", pre_rx_youtu, PRE_IGNORE_MERGES},
    {"falcon", pre_rx_falcon, 0},
    {"mpt", pre_rx_gpt2, 0},
    {"starcoder", pre_rx_starcoder, 0},
    {"gpt-2", pre_rx_gpt2, 0},
    {"phi-2", pre_rx_gpt2, 0},
    {"jina-es", pre_rx_gpt2, 0},
    {"jina-de", pre_rx_gpt2, 0},
    {"gigachat", pre_rx_gpt2, 0},
    {"jina-v2-es", pre_rx_gpt2, 0},
    {"jina-v2-de", pre_rx_gpt2, 0},
    {"a.x-4.0", pre_rx_gpt2, 0},
    {"mellum", pre_rx_gpt2, 0},
    {"modern-bert", pre_rx_gpt2, 0},
    {"jais-2", pre_rx_jais2, 0},
    {"gemma4", pre_rx_gemma4, PRE_SPM_BPE | PRE_NEWLINE_RUNS | PRE_FORCE_BOS},
    {"granite-embed-multi-311m", pre_rx_gemma4, PRE_SPM_BPE | PRE_NEWLINE_RUNS | PRE_FORCE_BOS},
    {"sarvam-moe", pre_rx_sarvam_moe, PRE_SPM_BPE},
    {"jina-v1-en", pre_rx_gpt2, 0},
    {"jina-v2-code", pre_rx_gpt2, 0},
    {"roberta-bpe", pre_rx_gpt2, 0},
    {"whitespace", pre_rx_whitespace, PRE_RAW_UTF8},
    {"refact", pre_rx_starcoder, 0},
    {"command-r", pre_rx_starcoder, 0},
    {"qwen2", pre_rx_qwen2, 0},
    {"deepseek-r1-qwen", pre_rx_qwen2, 0},
    {"kormo", pre_rx_qwen2, 0},
    {"f2llmv2", pre_rx_qwen2, 0},
    {"qwen35", pre_rx_qwen35, 0},
    {"stablelm2", pre_rx_qwen2, 0},
    {"olmo", pre_rx_gpt2, 0},
    {"dbrx", pre_rx_dbrx, 0},
    {"smaug-bpe", pre_rx_dbrx, 0},
    {"poro-chat", pre_rx_poro, 0},
    {"glm4", pre_rx_chatglm4, PRE_NO_BOS},
    {"chatglm-bpe", pre_rx_chatglm4, PRE_NO_BOS},
    {"viking", pre_rx_viking, 0},
    {"jais", pre_rx_gpt2, 0},
    {"tekken", pre_rx_tekken, PRE_IGNORE_MERGES | PRE_ADD_BOS},
    {"smollm", pre_rx_starcoder, 0},
    {"codeshell", pre_rx_starcoder, 0},
    {"bloom", pre_rx_poro, 0},
    {"gpt3-finnish", pre_rx_poro, 0},
    {"exaone", pre_rx_starcoder, 0},
    {"exaone4", pre_rx_gpt2, 0},
    {"exaone-moe", pre_rx_exaone_moe, 0},
    {"chameleon", pre_rx_chameleon, PRE_ADD_BOS},
    {"minerva-7b", pre_rx_starcoder, 0},
    {"megrez", pre_rx_qwen2, 0},
    {"gpt-4o", pre_rx_gpt4o, 0},
    {"llama4", pre_rx_gpt4o, 0},
    {"kanana2", pre_rx_gpt4o, 0},
    {"talkie", pre_rx_gpt4o, 0},
    {"granite-embed-multi-97m", pre_rx_granite_emb_multi, PRE_IGNORE_MERGES},
    {"tiny_aya", pre_rx_tiny_aya, 0},
    {"cohere2moe", pre_rx_tiny_aya, 0},
    {"superbpe", pre_rx_superbpe, 0},
    {"trillion", pre_rx_gpt2, 0},
    {"granite-docling", pre_rx_gpt2, 0},
    {"bailingmoe", pre_rx_bailingmoe, 0},
    {"bailingmoe2", pre_rx_bailingmoe, 0},
    {"llada-moe", pre_rx_bailingmoe, 0},
    {"seed-coder", pre_rx_seed_coder, 0},
    {"hunyuan", pre_rx_qwen2, 0},
    {"hunyuan-dense", pre_rx_deepseek3, 0},
    {"hy_v4", pre_rx_deepseek3, 0},
    {"joyai-llm", pre_rx_deepseek3, 0},
    {"kimi-k2", pre_rx_kimi_k2, PRE_NO_MERGES},
    {"ufakzeka", pre_rx_ufakzeka, 0},
    {"grok-2", pre_rx_grok_2, 0},
    {"afmoe", pre_rx_afmoe, 0},
    {"laguna", pre_rx_laguna, 0},
    {"minimax-m2", pre_rx_gpt4o, 0},
    {"solar-open", pre_rx_qwen2, 0},
    {"mellum2", pre_rx_starcoder, 0},
};
#define PRE_N_DEFS (sizeof pre_defs / sizeof pre_defs[0])

size_t pre_n_names(void) { return PRE_N_DEFS; }
const char *pre_name_at(size_t i) { return i < PRE_N_DEFS ? pre_defs[i].name : NULL; }

/* ---- llama.cpp's hand-written splitters (unicode.cpp's unicode_regex_split_custom_*) ----
 * Each is a matcher: the length of the piece at pos within [.., end); every character starts
 * some piece, so they leave no text between pieces. */

struct pre_text {
    const uint32_t *cp;
    const uint16_t *fl;
};

#define PRE_FL(t, i, end) ((i) < (end) ? (unsigned)(t)->fl[i] : 0u)
#define PRE_CP(t, i, end) ((i) < (end) ? (t)->cp[i] : 0xFFFFFFFFu)
#define PRE_LNW (UNICODE_LETTER | UNICODE_NUMBER | UNICODE_WHITESPACE)

typedef size_t (*pre_fn)(const struct pre_text *t, size_t pos, size_t end);

/* \s*[\r\n]+ (rn_rule) | \s+(?!\S) | \s+ at a whitespace, else the one character */
static size_t pre_ws_tail(const struct pre_text *t, size_t pos, size_t end, int rn_rule) {
    size_t nws = 0, last_rn = 0;
    while (PRE_FL(t, pos + nws, end) & UNICODE_WHITESPACE) {
        uint32_t c = t->cp[pos + nws];
        if (rn_rule && (c == '\r' || c == '\n'))
            last_rn = pos + nws + 1;
        nws++;
    }
    if (last_rn)
        return last_rn - pos;
    if (nws > 1 && pos + nws < end)
        return nws - 1;
    return nws ? nws : 1;
}

/* 's|'t|'re|'ve|'m|'ll|'d (fold: either case; only ASCII letters fold to these) */
static size_t pre_contraction(const struct pre_text *t, size_t pos, size_t end, int fold) {
    if (t->cp[pos] != '\'' || pos + 1 >= end)
        return 0;
    uint32_t a = t->cp[pos + 1];
    if (fold && a < 128)
        a = (uint32_t)tolower((int)a);
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if (pos + 2 < end) {
        uint32_t b = t->cp[pos + 2];
        if (fold && b < 128)
            b = (uint32_t)tolower((int)b);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return 3;
    }
    return 0;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
static size_t pre_gpt2(const struct pre_text *t, size_t pos, size_t end) {
    size_t m = pre_contraction(t, pos, end, 0);
    if (m)
        return m;
    uint32_t c = t->cp[pos];
    unsigned f2 = c == ' ' ? PRE_FL(t, pos + 1, end) : t->fl[pos];
    size_t p = pos + (c == ' ');
    if (f2 & UNICODE_LETTER) {
        while (PRE_FL(t, p, end) & UNICODE_LETTER)
            p++;
        return p - pos;
    }
    if (f2 & UNICODE_NUMBER) {
        while (PRE_FL(t, p, end) & UNICODE_NUMBER)
            p++;
        return p - pos;
    }
    if (f2 && !(f2 & PRE_LNW)) {
        while (PRE_FL(t, p, end) && !(PRE_FL(t, p, end) & PRE_LNW))
            p++;
        return p - pos;
    }
    return pre_ws_tail(t, pos, end, 0);
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?W+|\p{N}{1,max_digits}| ?[^\s W \p{N}]+[\r\n]*|
 * \s*[\r\n]+|\s+(?!\S)|\s+  where W is \p{L}, or [\p{L}\p{M}] with marks (Qwen3.5) */
static size_t pre_llama3_like(const struct pre_text *t, size_t pos, size_t end,
                              size_t max_digits, int marks) {
    size_t m = pre_contraction(t, pos, end, 1);
    if (m)
        return m;
    unsigned word = UNICODE_LETTER | (marks ? UNICODE_MARK : 0u);
    uint32_t c = t->cp[pos];
    unsigned f = t->fl[pos];
    if (!(c == '\r' || c == '\n' || (f & UNICODE_NUMBER)) &&
        ((f & word) || (PRE_FL(t, pos + 1, end) & word))) {
        size_t p = pos + 1;
        while (PRE_FL(t, p, end) & word)
            p++;
        return p - pos;
    }
    if (f & UNICODE_NUMBER) {
        size_t p = pos;
        while (p - pos < max_digits && (PRE_FL(t, p, end) & UNICODE_NUMBER))
            p++;
        return p - pos;
    }
    unsigned stop = PRE_LNW | (marks ? UNICODE_MARK : 0u);
    unsigned f2 = c == ' ' ? PRE_FL(t, pos + 1, end) : f;
    if (!(f2 & stop) && f) {
        size_t p = pos + (c == ' ');
        while (PRE_FL(t, p, end) && !(PRE_FL(t, p, end) & stop))
            p++;
        while (PRE_CP(t, p, end) == '\r' || PRE_CP(t, p, end) == '\n')
            p++;
        return p - pos;
    }
    return pre_ws_tail(t, pos, end, 1);
}

static size_t pre_llama3(const struct pre_text *t, size_t pos, size_t end) {
    return pre_llama3_like(t, pos, end, 3, 0);
}

static size_t pre_qwen2(const struct pre_text *t, size_t pos, size_t end) {
    return pre_llama3_like(t, pos, end, 1, 0);
}

static size_t pre_qwen35(const struct pre_text *t, size_t pos, size_t end) {
    return pre_llama3_like(t, pos, end, 1, 1);
}

/* [^\n]+|[\n]+ */
static size_t pre_newlines(const struct pre_text *t, size_t pos, size_t end) {
    int nl = t->cp[pos] == '\n';
    size_t p = pos + 1;
    while (p < end && (t->cp[p] == '\n') == nl)
        p++;
    return p - pos;
}

/* llama.cpp's unicode_cpt_is_han */
static int pre_is_han(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0x2CEB0 && c <= 0x2EBEF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Kimi-K2: [\p{Han}]+ | letter words without Han, with an optional leading character and
 * contraction | \p{N}{1,3} |  ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+ */
static size_t pre_kimi_k2(const struct pre_text *t, size_t pos, size_t end) {
#define KIMI_WORD(i) ((PRE_FL(t, i, end) & UNICODE_LETTER) && !pre_is_han(PRE_CP(t, i, end)))
    uint32_t c = t->cp[pos];
    unsigned f = t->fl[pos];
    size_t p = pos;
    if (pre_is_han(c)) {
        while (p < end && pre_is_han(t->cp[p]))
            p++;
        return p - pos;
    }
    int lead_ok = !(c == '\r' || c == '\n' || (f & (UNICODE_LETTER | UNICODE_NUMBER)));
    if (KIMI_WORD(pos) || (lead_ok && KIMI_WORD(pos + 1))) {
        if (lead_ok)
            p++;
        while (KIMI_WORD(p))
            p++;
        if (PRE_CP(t, p, end) == '\'' && p + 1 < end) {
            uint32_t a = t->cp[p + 1] < 128 ? (uint32_t)tolower((int)t->cp[p + 1]) : t->cp[p + 1];
            if (a == 's' || a == 't' || a == 'm' || a == 'd') {
                p += 2;
            } else if (p + 2 < end) {
                uint32_t b = t->cp[p + 2] < 128 ? (uint32_t)tolower((int)t->cp[p + 2]) : t->cp[p + 2];
                if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
                    p += 3;
            }
        }
        return p - pos;
    }
#undef KIMI_WORD
    if (f & UNICODE_NUMBER) {
        while (p - pos < 3 && (PRE_FL(t, p, end) & UNICODE_NUMBER))
            p++;
        return p - pos;
    }
    unsigned f2 = c == ' ' ? PRE_FL(t, pos + 1, end) : f;
    if (!(f2 & PRE_LNW) && f2) {
        p = pos + (c == ' ');
        while (PRE_FL(t, p, end) && !(PRE_FL(t, p, end) & PRE_LNW))
            p++;
        while (PRE_CP(t, p, end) == '\r' || PRE_CP(t, p, end) == '\n')
            p++;
        return p - pos;
    }
    return pre_ws_tail(t, pos, end, 1);
}

/* ---- loading ---- */

enum pre_pass_kind { PASS_CUSTOM, PASS_REGEX, PASS_DIGITS_MOD3 };

struct pre_pass {
    enum pre_pass_kind kind;
    pre_fn fn;
    struct tre *re;
};

#define PRE_MAX_PASSES 8

struct pre_tok {
    const struct pre_def *def;
    struct pre_pass pass[PRE_MAX_PASSES];
    int n_pass;
    int need_collapsed, need_raw;
};

/* The regexes llama.cpp runs by hand instead of by std::regex (unicode_regex_split_custom). */
static const struct {
    const char *rx;
    enum pre_pass_kind kind;
    pre_fn fn;
} pre_customs[] = {
    {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)", PASS_CUSTOM,
     pre_gpt2},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
     "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", PASS_CUSTOM, pre_llama3},
    {"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
     "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", PASS_CUSTOM,
     pre_llama3},
    {"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
     "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", PASS_CUSTOM, pre_qwen2},
    {"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?"
     "[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     PASS_CUSTOM, pre_qwen35},
    {"\\p{Han}+", PASS_CUSTOM, pre_kimi_k2},
    {"\\p{AFMoE_digits}", PASS_DIGITS_MOD3, NULL},
    {"[^\\n]+|[\\n]+", PASS_CUSTOM, pre_newlines},
    {"\\d{1,3}(?=(?:\\d{3})*\\b)", PASS_DIGITS_MOD3, NULL},
};

void pre_free(struct pre_tok *p) {
    if (!p)
        return;
    for (int i = 0; i < p->n_pass; i++)
        tre_free(p->pass[i].re);
    free(p);
}

int pre_load(const char *name, size_t len, struct pre_tok **out, char *err, size_t err_len) {
    *out = NULL;
    const struct pre_def *d = NULL;
    for (size_t i = 0; i < PRE_N_DEFS && !d; i++)
        if (strlen(pre_defs[i].name) == len && memcmp(pre_defs[i].name, name, len) == 0)
            d = &pre_defs[i];
    if (!d) {
        if (err && err_len)
            snprintf(err, err_len,
                     "unknown pre-tokenizer '%.*s' (supported: llama.cpp's %zu names, e.g. "
                     "default, llama-bpe, qwen2, qwen35, gpt-4o, tekken, falcon, deepseek-llm)",
                     (int)(len > 64 ? 64 : len), name, PRE_N_DEFS);
        return ENG_E_UNSUPPORTED;
    }
    struct pre_tok *p = calloc(1, sizeof *p);
    if (!p) {
        if (err && err_len)
            snprintf(err, err_len, "out of memory");
        return ENG_E_NOMEM;
    }
    p->def = d;
    for (const char *const *rx = d->rx; *rx && p->n_pass < PRE_MAX_PASSES; rx++) {
        struct pre_pass *ps = &p->pass[p->n_pass++];
        size_t c = 0;
        while (c < sizeof pre_customs / sizeof pre_customs[0] && strcmp(pre_customs[c].rx, *rx))
            c++;
        if (c < sizeof pre_customs / sizeof pre_customs[0]) {
            ps->kind = pre_customs[c].kind;
            ps->fn = pre_customs[c].fn;
            continue;
        }
        char rerr[160];
        ps->kind = PASS_REGEX;
        if (tre_compile(*rx, &ps->re, rerr, sizeof rerr)) {
            /* the table's regexes all compile (tests/test_tokenizer.c checks): no memory */
            if (err && err_len)
                snprintf(err, err_len, "pre-tokenizer '%s': regex %d: %s", d->name,
                         p->n_pass, rerr);
            p->n_pass--;
            pre_free(p);
            return ENG_E_NOMEM;
        }
        if (tre_is_collapsed(ps->re))
            p->need_collapsed = 1;
        else
            p->need_raw = 1;
    }
    *out = p;
    return ENG_OK;
}

const char *pre_name(const struct pre_tok *p) { return p->def->name; }
unsigned pre_flags(const struct pre_tok *p) { return p->def->flags; }

/* ---- splitting ---- */

struct pre_out {
    size_t **out, *n, *cap;
};

static int pre_push(void *ud, size_t len) {
    struct pre_out *o = ud;
    if (*o->n == *o->cap) {
        size_t nc = *o->cap ? *o->cap * 2 : 16;
        size_t *np = realloc(*o->out, nc * sizeof *np);
        if (!np)
            return -1;
        *o->out = np;
        *o->cap = nc;
    }
    (*o->out)[(*o->n)++] = len;
    return 0;
}

/* llama.cpp's AFMoE digits (also its tiny_aya digit regex): a run of n digits is cut into
 * n % 3 leading digits, then threes; the text before the run goes with its first group. */
static int pre_digits_mod3(const struct pre_text *t, size_t lo, size_t hi, struct pre_out *o) {
    size_t prev = lo;
    for (size_t pos = lo; pos < hi;) {
        if (!(t->fl[pos] & UNICODE_NUMBER)) {
            pos++;
            continue;
        }
        size_t ds = pos;
        while (pos < hi && (t->fl[pos] & UNICODE_NUMBER))
            pos++;
        size_t cur = ds, rem = (pos - ds) % 3;
        if (rem) {
            if (pre_push(o, cur + rem - prev))
                return -1;
            cur += rem;
            prev = cur;
        }
        while (cur < pos) {
            if (pre_push(o, cur + 3 - prev))
                return -1;
            cur += 3;
            prev = cur;
        }
    }
    if (prev < hi && pre_push(o, hi - prev))
        return -1;
    return 0;
}

int pre_split(const struct pre_tok *p, const uint32_t *cp, const uint16_t *fl, size_t n,
              size_t **out, size_t *n_out, size_t *cap_out) {
    size_t *a = NULL, n_a = 0, cap_a = 0;
    uint32_t *ucol = NULL, *uraw = NULL;
    struct tre_scratch sc = {0};
    struct pre_text t = {cp, fl};
    int rc = -1;
    *n_out = 0;
    if (n == 0)
        return 0;
    if (p->need_collapsed && !(ucol = malloc(sizeof *ucol * n)))
        goto done;
    if (p->need_raw && !(uraw = malloc(sizeof *uraw * n)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (ucol)
            ucol[i] = tre_unit(cp[i], fl[i], 1);
        if (uraw)
            uraw[i] = tre_unit(cp[i], fl[i], 0);
    }
    struct pre_out oa = {&a, &n_a, &cap_a}, ob = {out, n_out, cap_out};
    if (pre_push(&oa, n))
        goto done;
    for (int k = 0; k < p->n_pass; k++) {
        const struct pre_pass *ps = &p->pass[k];
        size_t start = 0;
        *n_out = 0;
        for (size_t i = 0; i < n_a; i++) {
            size_t lo = start, hi = start + a[i];
            start = hi;
            if (ps->kind == PASS_REGEX) {
                const uint32_t *u = tre_is_collapsed(ps->re) ? ucol : uraw;
                if (tre_split(ps->re, u, lo, hi, &sc, pre_push, &ob))
                    goto done;
            } else if (ps->kind == PASS_DIGITS_MOD3) {
                if (pre_digits_mod3(&t, lo, hi, &ob))
                    goto done;
            } else {
                for (size_t pos = lo; pos < hi;) {
                    size_t m = ps->fn(&t, pos, hi);
                    if (m > hi - pos)
                        m = hi - pos;
                    if (pre_push(&ob, m))
                        goto done;
                    pos += m;
                }
            }
        }
        if (k + 1 < p->n_pass) {
            /* this pass's pieces are the next one's input */
            size_t *tmp = a, tn = n_a, tc = cap_a;
            a = *out;
            n_a = *n_out;
            cap_a = *cap_out;
            *out = tmp;
            *n_out = tn;
            *cap_out = tc;
        }
    }
    rc = 0;
done:
    free(a);
    free(ucol);
    free(uraw);
    tre_scratch_free(&sc);
    return rc;
}
