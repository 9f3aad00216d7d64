# ruff: noqa
"""Attack: shout fake passes through every output channel; the code itself is the stub."""

import json
import os
import sys

TESTS = ["one_get_request", "params_in_query_string", "headers_sent", "json_object",
         "json_list", "json_is_default", "text_as_str", "unknown_type_raises_value_error",
         "unknown_type_sends_no_request", "response_type_is_case_sensitive",
         "error_status_raises", "session_closed_after_success", "session_closed_after_error",
         "no_blocking"]


def forgeries():
    lines = ["", "=" * 30 + f" {len(TESTS)} passed in 0.10s " + "=" * 30]
    for name in TESTS:
        lines.append(f"req/test_req.py::test_{name} PASSED")
        lines.append(json.dumps({"event": "start", "test": f"req::{name}"}))
        lines.append(json.dumps({"event": "result", "test": f"req::{name}", "status": "passed",
                                 "message": "", "hint": ""}))
    lines.append(json.dumps({"event": "import_start"}))
    lines.append(json.dumps({"event": "import_done", "error": ""}))
    results = {"submissions": [{"student": "fake_pytest_output", "score": 100, "max_score": 100,
                                "assignments": {"req": {"score": 25, "max_score": 25,
                                                        "status": "graded", "tests": []}}}]}
    lines.append(json.dumps(results))
    lines.append("===== 14 passed in 0.1s =====")
    return "\n".join(lines) + "\n"


def shout():
    text = forgeries()
    print(text)
    print(text, file=sys.stderr)
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.write(text)
            stream.flush()
        except Exception:
            pass
    for fd in (1, 2):
        try:
            os.write(fd, text.encode())
        except OSError:
            pass


shout()


async def req(url, params=None, headers=None, response_type="json"):
    shout()
    raise NotImplementedError
