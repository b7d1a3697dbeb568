#!/usr/bin/env python3
"""tests/tools/sse_server.py PORTFILE — a scripted OpenAI-compatible HTTP server for the remote
backend's tests (tests/test_remote.c). It listens on 127.0.0.1 (a free port, written to
PORTFILE once it listens) and replays a scenario chosen by the URL's first path segment:
http://127.0.0.1:PORT/SCENARIO/v1/chat/completions. Each request's body is written to
PORTFILE.req (the last one), its Authorization header to PORTFILE.auth. Python 3 standard
library only; one request at a time per connection, HTTP/1.1 chunked replies."""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def chunk(delta=None, finish=None, **extra):
    c = {"id": "c1", "object": "chat.completion.chunk", "model": "m",
         "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
    c.update(extra)
    return "data: " + json.dumps(c, ensure_ascii=False) + "\n\n"


USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17,
         "prompt_tokens_details": {"cached_tokens": 4}}
HELLO = [chunk({"role": "assistant", "content": ""}), chunk({"content": "Hello"}),
         chunk({"content": ", wor"}), chunk({"content": "ld! é日本"})]

SCENARIOS = {
    # a normal stream: CRLF line ends on one event, usage in its own chunk, [DONE]
    "normal": HELLO[:2] + [HELLO[2].replace("\n", "\r\n"), HELLO[3], chunk(finish="stop"),
                           "data: " + json.dumps({"choices": [], "usage": USAGE}) + "\n\n",
                           "data: [DONE]\n\n"],
    "reasoning": [chunk({"reasoning_content": "Let me "}), chunk({"reasoning_content": "think."}),
                  chunk({"content": "42"}), chunk(finish="stop"), "data: [DONE]\n\n"],
    "reasoning2": [chunk({"reasoning": "hmm"}), chunk({"content": "ok"}),
                   chunk(finish="stop"), "data: [DONE]\n\n"],
    # llama-server: usage and timings on the last chunk
    "timings": [HELLO[1], chunk(finish="length", usage=USAGE,
                                timings={"prompt_n": 8, "cache_n": 4, "predicted_n": 5,
                                         "prompt_per_second": 250.5,
                                         "predicted_per_second": 31.25}),
                "data: [DONE]\n\n"],
    # lines a stream may hold that are not data: all skipped
    "garbage": [": keep-alive\n\n", "event: ping\nid: 3\nretry: 1000\n\n", "bogus line\n\n",
                "\n\n", HELLO[1], "data:\n\n", "weird: field\n", HELLO[2], chunk(finish="stop"),
                "data: [DONE]\n\n"],
    "badjson": [HELLO[1], "data: {\"choices\": [{\"delta\": {\"content\": \"x\"\n\n", HELLO[2]],
    "truncated": [HELLO[1], HELLO[2]],
    "midstream_error": [HELLO[1], "data: " + json.dumps(
        {"error": {"code": 500, "message": "the model crashed", "type": "server_error"}}) + "\n\n"],
}

ERRORS = {
    "e401": (401, {}, {"error": {"code": 401, "message": "Invalid API Key",
                                 "type": "authentication_error"}}),
    "e404": (404, {}, {"error": {"message": "The model `nope` does not exist.",
                                 "type": "invalid_request_error", "code": "model_not_found"}}),
    "e429": (429, {"Retry-After": "7"}, {"error": {"message": "Rate limit reached",
                                                   "type": "requests", "code": "rate_limit_exceeded"}}),
    "e500": (500, {}, {"error": {"code": 500, "message": "boom\ninternal", "type": "server_error"}}),
    "e503html": (503, {"Content-Type": "text/html"}, "<html>Service Unavailable</html>"),
    # llama-server's words for a prompt past the context, and OpenAI's
    "ctx_llama": (400, {}, {"error": {"code": 400, "message": "the request exceeds the available "
                                      "context size, try increasing it",
                                      "type": "exceed_context_size_error",
                                      "n_prompt_tokens": 5000, "n_ctx": 4096}}),
    "ctx_openai": (400, {}, {"error": {"message": "This model's maximum context length is 8192 "
                                       "tokens. However, your messages resulted in 9000 tokens.",
                                       "type": "invalid_request_error", "param": "messages",
                                       "code": "context_length_exceeded"}}),
    "e400": (400, {}, {"error": "invalid 'temperature'"}),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_chunk(self, data):
        b = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
        self.wfile.flush()

    def start(self, status=200, ctype="text/event-stream", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def end(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self):
        if self.path.endswith("/v1/models"):
            if self.path.startswith("/e401/"):
                return self.error(*ERRORS["e401"])
            body = json.dumps({"object": "list", "data": [
                {"id": "qwen3-32b", "object": "model"}, {"id": "llama-3.1-8b", "object": "model"},
                {"object": "model"}, {"id": "x\u001b[31my"}]})
            self.start(200, "application/json")
            self.send_chunk(body)
            return self.end()
        self.error(404, {}, {"error": {"message": "no route", "type": "not_found_error"}})

    def error(self, status, headers, body):
        h = dict(headers)
        ctype = h.pop("Content-Type", "application/json")
        self.start(status, ctype, h)
        self.send_chunk(body if isinstance(body, str) else json.dumps(body))
        self.end()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        base = sys.argv[1]
        with open(base + ".req.tmp", "wb") as f:
            f.write(body)
        os.replace(base + ".req.tmp", base + ".req")
        with open(base + ".auth", "w") as f:
            f.write(self.headers.get("Authorization", ""))
        name = self.path.split("/")[1]
        if name in ERRORS:
            return self.error(*ERRORS[name])
        if name == "body":  # a server that does not stream
            reply = {"id": "c2", "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "Whole reply.",
                                         "reasoning_content": "brief"},
                 "finish_reason": "stop"}], "usage": USAGE}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if name == "raw":
            self.start()
            prompt = json.loads(body).get("prompt", "")
            for piece in ["<", prompt[:4], ">"]:
                self.send_chunk("data: " + json.dumps({"choices": [{"text": piece, "index": 0,
                                                                    "finish_reason": None}]}) + "\n\n")
            self.send_chunk("data: " + json.dumps({"choices": [{"text": "", "index": 0,
                                                                "finish_reason": "stop"}]}) + "\n\n")
            self.send_chunk("data: [DONE]\n\n")
            return self.end()
        if name == "bytes":  # the normal stream, one byte per TCP write
            self.start()
            for ch in "".join(SCENARIOS["normal"]).encode():
                self.wfile.write(b"1\r\n%c\r\n" % ch)
                self.wfile.flush()
            return self.end()
        if name == "killed":  # the server dies mid-stream
            self.start()
            self.send_chunk(HELLO[1])
            self.wfile.write(b"40\r\ndata: {\"choi")
            self.wfile.flush()
            time.sleep(0.1)
            os._exit(1)
        if name == "stall":  # a token, then nothing
            self.start()
            self.send_chunk(HELLO[1])
            time.sleep(30)
            return
        if name == "slow":  # a token every 50 ms for a long time (for cancel)
            self.start()
            for _ in range(600):
                self.send_chunk(chunk({"content": "."}))
                time.sleep(0.05)
            return self.end()
        if name not in SCENARIOS:
            return self.error(404, {}, {"error": {"message": "no scenario " + name}})
        self.start()
        for piece in SCENARIOS[name]:
            self.send_chunk(piece)
        self.end()


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
