# ruff: noqa
# Three lines: importing this raises an exception whose message is 20 MB (issue 8).
raise RuntimeError("A" * 20_000_000)
