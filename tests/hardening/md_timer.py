"""Child process for the Markdown stress test: build the script of hostile documents, timed.

Reads ``[[name, size], ...]`` as JSON on stdin, builds each document with ``hostile_markdown``
and prints one JSON line per case (seconds, sentences, or the exception). A separate process lets
the parent enforce a hard time limit: a true hang fails the test instead of freezing the suite.
"""

from __future__ import annotations

import json
import sys
import time


def _rep(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# name → a function of the size (characters) giving the document
HOSTILE = {
    "open brackets": lambda n: "[" * n,
    "open wikilinks": lambda n: _rep("[[", n),
    "open embeds": lambda n: _rep("![[", n),
    "link openers": lambda n: _rep("[a](", n),
    "nested emphasis": lambda n: _rep("*_", n),
    "underscores": lambda n: _rep("_a", n),
    "backticks": lambda n: "`" * n,
    "stars": lambda n: "*" * n,
    "hashes": lambda n: "#" * n,
    "dollars": lambda n: "$" * n,
    "comment openers": lambda n: _rep("%%", n),
    "highlights": lambda n: _rep("==x", n),
    "footnote refs": lambda n: _rep("[^1] ", n),
    "html tags": lambda n: _rep("<div>", n),
    "entities": lambda n: _rep("&amp;", n),
    "autolinks": lambda n: _rep("<http://a.b> ", n),
    "bare urls": lambda n: _rep("http://a.b/c ", n),
    "tags": lambda n: _rep("#tag ", n),
    "callouts": lambda n: _rep("> [!note] x\n", n),
    "nested quotes": lambda n: _rep("> ", n),
    "deep list": lambda n: "".join("  " * i + "- x\n" for i in range(min(1000, n // 40))),
    "task list": lambda n: _rep("- [ ] x\n", n),
    "list markers": lambda n: _rep("1. ", n),
    "setext headings": lambda n: _rep("a\n===\n", n),
    "wide table": lambda n: ("|" + "a|" * 2000 + "\n|" + "-|" * 2000 + "\n") * max(1, n // 8000),
    "unclosed fence": lambda n: "```\n" + _rep("code\n", n),
    "unclosed front matter": lambda n: "---\n" + _rep("a: b\n", n),
    "math block": lambda n: "$$\n" + _rep("x^2 ", n),
    "one-line math blocks": lambda n: _rep("$$x$$\n", n),
    "one-line comments": lambda n: _rep("%%x%%\n", n),
    "one long line": lambda n: _rep("word ", n),
    "short sentences": lambda n: _rep("Hi. ", n),
    "emoji": lambda n: _rep("😀", n),
    "cjk without punctuation": lambda n: _rep("你好世界", n),
    "mixed scripts": lambda n: _rep("Hello 你好 こんにちは. ", n),
    "carriage returns": lambda n: "\r" * n,
    "nul bytes": lambda n: "\0" * n,
    "tabs": lambda n: "\t" * n,
    "lone surrogates": lambda n: _rep("\ud800a", n),
    "combining marks": lambda n: _rep("a\u0301\u0301\u0301", n),
    "bidi overrides": lambda n: _rep("\u202eabc ", n),
}


def main() -> int:
    import logging

    logging.disable(logging.WARNING)  # "too deeply nested" notices are expected here
    from ownvoice.notes import build_script

    for name, size in json.load(sys.stdin):
        text = HOSTILE[name](size)
        t0 = time.perf_counter()
        try:
            n, err = len(build_script(text)), None
        except Exception as e:  # noqa: BLE001 - reported to the parent, which fails the test
            n, err = -1, f"{type(e).__name__}: {e}"
        out = {
            "name": name,
            "size": len(text),
            "seconds": time.perf_counter() - t0,
            "sentences": n,
            "error": err,
        }
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
