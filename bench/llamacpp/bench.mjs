// bench/llamacpp/bench.mjs — llama.cpp's speed on a GGUF file, measured the way llama-bench does
// (pp: fresh KV cache, p tokens decoded in one batch; tg: n tokens decoded one at a time, logits
// of the last token of each batch computed, nothing sampled or detokenized), through the prebuilt
// llama.cpp that the npm package node-llama-cpp ships. Used by bench/compare.sh beside
// `natter bench`; its --json output has the fields of natter's (n_prompt, n_gen, avg_ts,
// stddev_ts, samples_ts). Single-threaded node script; llama.cpp runs its own CPU threads.
//
//   node bench/llamacpp/bench.mjs -m MODEL [-p 512] [-n 128] [-r 3] [-t 2] [--fa] [--json]
//   node bench/llamacpp/bench.mjs --version      # llama.cpp commit/build and the CPU variant
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

function usage(msg) {
    if (msg) process.stderr.write(`bench.mjs: ${msg}\n`);
    process.stderr.write("usage: bench.mjs -m MODEL [-p N] [-n N] [-r N] [-t N] [--fa] [--json] | --version\n");
    process.exit(2);
}

function parseArgs(argv) {
    const a = { model: null, p: 512, n: 128, r: 3, t: 2, fa: false, json: false, version: false };
    const ints = { "-p": "p", "-n": "n", "-r": "r", "-t": "t" };
    for (let i = 0; i < argv.length; i++) {
        const f = argv[i];
        if (f === "--json") a.json = true;
        else if (f === "--fa") a.fa = true;
        else if (f === "--version") a.version = true;
        else if (f === "-m") {
            if (i + 1 >= argv.length) usage("-m wants a file");
            a.model = argv[++i];
        } else if (f in ints) {
            const v = Number(argv[++i]);
            if (!Number.isInteger(v) || v < 0 || v > 65536) usage(`${f} wants a whole number`);
            a[ints[f]] = v;
        } else usage(`unknown option '${f}'`);
    }
    if (!a.version && !a.model) usage("no model (-m MODEL)");
    if (!a.version && a.p === 0 && a.n === 0) usage("nothing to measure (-p 0 and -n 0)");
    if (a.r < 1) usage("-r wants at least 1");
    if (a.t < 1) usage("-t wants at least 1");
    return a;
}

// Which libggml-cpu-*.so variant ggml's backend registry picked (it loads the best one the CPU
// runs: haswell = AVX2, skylakex/icelake/sapphirerapids/zen4 = AVX-512 of various kinds).
function loadedCpuVariant() {
    const maps = readFileSync("/proc/self/maps", "utf8");
    const m = maps.match(/libggml-cpu-([A-Za-z0-9_]+)\.so/);
    return m ? m[1] : "unknown";
}

// llama.cpp's commit as its build records it (LLAMA_COMMIT is in libllama-common.so's data;
// node cannot call into it, so read it from the package's build metadata and the library's
// strings: the 7-hex commit sits next to the build target "Linux x86_64" in .data/.rodata).
function llamaCommit(binDir) {
    try {
        const buf = readFileSync(path.join(binDir, "libggml-base.so")).toString("latin1");
        // ggml_commit() returns a string baked in as GGML_COMMIT: a lone 7..12 hex run
        const m = buf.match(/\0([0-9a-f]{7,12})\0/g);
        if (m) return m.map((s) => s.slice(1, -1)).filter((s) => /[a-f]/.test(s) && /[0-9]/.test(s))[0] ?? "unknown";
    } catch { /* fall through */ }
    return "unknown";
}

// Random token ids from a fixed seed, the first one BOS (as natter bench and llama-bench do):
// the same 64-bit LCG as natter bench, so both sides decode the same ids.
function benchTokens(nVocab, bos, n) {
    const out = new Uint32Array(n);
    let x = 0x5eedn;
    const mask = (1n << 64n) - 1n;
    for (let i = 0; i < n; i++) {
        x = (x * 6364136223846793005n + 1442695040888963407n) & mask;
        out[i] = Number((x >> 33n) % BigInt(nVocab));
    }
    if (n > 0 && bos != null && bos >= 0) out[0] = bos;
    return out;
}

function stats(samples) {
    const n = samples.length;
    const avg = samples.reduce((s, v) => s + v, 0) / n;
    const sd = n > 1 ? Math.sqrt(samples.reduce((s, v) => s + (v - avg) ** 2, 0) / (n - 1)) : 0;
    return { avg, sd };
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    let lib;
    try {
        lib = await import("node-llama-cpp");
    } catch (e) {
        process.stderr.write(`bench.mjs: node-llama-cpp is not installed (${e.code ?? e.message}); run npm install in bench/llamacpp\n`);
        process.exit(3);
    }
    const require = createRequire(import.meta.url);
    const prebuiltPkg = path.dirname(path.dirname(require.resolve("@node-llama-cpp/linux-x64")));
    const prebuiltDir = path.join(prebuiltPkg, "bins", "linux-x64");
    const pkgVersion = JSON.parse(readFileSync(path.join(prebuiltPkg, "package.json"), "utf8")).version;

    const llama = await lib.getLlama({ gpu: false, build: "never", usePrebuiltBinaries: true, maxThreads: a.t,
        logLevel: lib.LlamaLogLevel.error, progressLogs: false });
    const info = {
        node_llama_cpp: pkgVersion,
        llama_cpp_release: llama.llamaCppRelease?.release ?? "unknown",
        llama_cpp_commit: llamaCommit(prebuiltDir),
        cpu_variant: loadedCpuVariant(),
        system_info: llama.systemInfo.trim(),
    };
    if (a.version) {
        for (const [k, v] of Object.entries(info)) console.log(`${k}: ${v}`);
        await llama.dispose();
        return;
    }

    const model = await llama.loadModel({ modelPath: path.resolve(a.model), gpuLayers: 0 });
    info.cpu_variant = loadedCpuVariant();
    const nTok = Math.max(a.p, a.n) + 1;
    const context = await model.createContext({
        contextSize: Math.max(256, nTok + 16), batchSize: Math.max(a.p, 1), sequences: 1,
        threads: a.t, flashAttention: a.fa,
    });
    const seq = context.getSequence();
    // The library's queue (batching across sequences, scheduled on the next event-loop turn)
    // is bypassed: the native context's batch calls are made directly so that only llama.cpp's
    // decode is timed.
    const ctx = context._ctx;
    const seqId = seq._sequenceId ?? 0;
    ctx.setThreads(a.t);
    const toks = benchTokens(model.tokens.trimmedVocabularySize ?? model.fileInsights.vocabularySize ?? 32000,
        model.tokens.bos, nTok);

    const clear = () => ctx.removeTokenCellsFromSequence(seqId, 0, context.contextSize + 1);
    const decode = async (tokens, pos) => {
        ctx.initBatch(tokens.length);
        ctx.addToBatch(seqId, pos, tokens, Uint32Array.of(tokens.length - 1));
        await ctx.decodeBatch();
    };
    const once = async (nPrompt, nGen) => {
        clear();
        const t0 = process.hrtime.bigint();
        if (nPrompt > 0) await decode(toks.subarray(0, nPrompt), 0);
        for (let i = 0; i < nGen; i++) await decode(toks.subarray(i, i + 1), nPrompt + i);
        return Number(process.hrtime.bigint() - t0) / 1e9;
    };
    const tests = [];
    if (a.p > 0) tests.push([a.p, 0]);
    if (a.n > 0) tests.push([0, a.n]);
    const results = [];
    for (const [p, n] of tests) {
        await once(p, n > 0 ? 1 : 0); // warm-up, as llama-bench: a whole pp batch, one tg token
        const samples = [];
        for (let i = 0; i < a.r; i++) samples.push((p + n) / (await once(p, n)));
        results.push({ n_prompt: p, n_gen: n, samples, ...stats(samples) });
    }
    clear();
    const sizeBytes = model.size;
    const desc = model.typeDescription;
    await context.dispose();
    await model.dispose();
    await llama.dispose();

    if (a.json) {
        const objs = results.map((r) => ({
            backend: "llama.cpp (node-llama-cpp)",
            model_filename: a.model, model_type: desc, model_size: sizeBytes, n_threads: a.t,
            flash_attn: a.fa, ...info,
            n_prompt: r.n_prompt, n_gen: r.n_gen, avg_ts: Number(r.avg.toFixed(4)),
            stddev_ts: Number(r.sd.toFixed(4)), samples_ts: r.samples.map((v) => Number(v.toFixed(4))),
        }));
        console.log(JSON.stringify(objs, null, 2));
        return;
    }
    console.log(`llama.cpp ${info.llama_cpp_release} (commit ${info.llama_cpp_commit}) via node-llama-cpp ${info.node_llama_cpp}, CPU variant ${info.cpu_variant}`);
    console.log(`| model | size | threads | fa | test | t/s |`);
    console.log(`|---|---|---|---|---|---|`);
    for (const r of results) {
        const test = r.n_prompt ? `pp${r.n_prompt}` : `tg${r.n_gen}`;
        console.log(`| ${desc} | ${(sizeBytes / 1048576).toFixed(2)} MiB | ${a.t} | ${a.fa ? 1 : 0} | ${test} | ${r.avg.toFixed(2)} ± ${r.sd.toFixed(2)} |`);
    }
}

main().catch((e) => {
    process.stderr.write(`bench.mjs: ${e?.message ?? e}\n`);
    process.exit(1);
});
