"""How soon `regime lsp` publishes diagnostics for oversight2021 after a change.

    python benchmarks/bench_lsp.py [--repeat N] [--quick]

Starts `python cli.py lsp` as a subprocess and speaks JSON-RPC to it over its stdin/stdout:
opens oversight2021, then alternately breaks one expression (an unknown name) and fixes it,
timing from each `didChange` to the `publishDiagnostics` that answers it (the debounce pause
included). Each answer is checked: one error after a break, none after a fix. Also reports
the analysis alone (load, validate, parse, check, index) in this process, for context.
Target: diagnostics within 300 ms of a change.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from queue import Empty, Queue

import _common as C

TARGET = 0.300


class _Server:
    """A language server subprocess and a reader thread that queues its messages."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([C.PYTHON, str(C.ROOT / "cli.py"), "lsp"], cwd=C.ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.messages: Queue = Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.messages.put((time.perf_counter(), json.loads(out.read(length))))

    def send(self, method: str, params, request: bool = False) -> int | None:
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        rid = None
        if request:
            self.next_id += 1
            rid = msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return rid

    def wait(self, match, timeout: float = 120.0):
        deadline = time.perf_counter() + timeout
        while True:
            try:
                at, msg = self.messages.get(timeout=max(0.01, deadline - time.perf_counter()))
            except Empty:
                raise TimeoutError("no answer from the language server") from None
            if match(msg):
                return at, msg

    def close(self) -> None:
        rid = self.send("shutdown", None, request=True)
        self.wait(lambda m: m.get("id") == rid)
        self.send("exit", None)
        self.proc.wait(timeout=30)


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 3
    from rulesengine.authoring.lsp import analyse

    path = C.ROOT / "policies" / "oversight2021.yaml"
    good = path.read_text(encoding="utf-8")
    needle = "access_bottom_quartile: is_trust and"
    assert needle in good
    bad = good.replace(needle, "access_bottom_quartile: is_trustt and", 1)
    uri = path.resolve().as_uri()

    in_process = C.best_of(lambda: analyse(good, str(path)), max(3, args.repeat // 2))
    server = _Server()
    rid = server.send("initialize", {"processId": None, "rootUri": None, "capabilities": {}},
                      request=True)
    server.wait(lambda m: m.get("id") == rid)
    server.send("initialized", {})

    def diagnostics(m) -> bool:
        return m.get("method") == "textDocument/publishDiagnostics" and \
            m["params"]["uri"] == uri

    server.send("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "yaml", "version": 1, "text": good}})
    server.wait(diagnostics)
    times = []
    for k in range(2 * args.repeat):
        text = bad if k % 2 == 0 else good
        sent = time.perf_counter()
        server.send("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": k + 2},
            "contentChanges": [{"text": text}]})
        at, msg = server.wait(diagnostics)
        errors = [d for d in msg["params"]["diagnostics"] if d["severity"] == 1]
        assert len(errors) == (1 if text is bad else 0), errors
        times.append(at - sent)
    server.close()
    best, median = min(times), sorted(times)[len(times) // 2]
    print(f"didChange -> publishDiagnostics over {len(times)} changes: best {best:.3f} s, "
          f"median {median:.3f} s; analysis alone in process {in_process:.3f} s")
    rows = [
        C.Row("lsp", "oversight2021: change -> diagnostics, median", median, "s",
              f"< {TARGET:.1f} s", median < TARGET, "debounce pause included"),
        C.Row("lsp", "oversight2021: change -> diagnostics, best", best, "s"),
        C.Row("lsp", "oversight2021: analysis alone (in process)", in_process, "s"),
    ]
    C.finish(rows, args, "Benchmark: regime lsp diagnostics after a change")
    return rows


if __name__ == "__main__":
    main()
