"""[test process] Failures written for the student: what was observed, what was expected, a hint."""

from __future__ import annotations

from grader.i18n import _


class Feedback(AssertionError):
    """A failed check that carries words for the student instead of test source."""

    def __init__(self, observed: str, expected: str, hint: str = "") -> None:
        super().__init__(_("{observed}; expected {expected}").format(
            observed=observed, expected=expected))
        self.observed = observed
        self.expected = expected
        self.hint = hint

    @property
    def message(self) -> str:
        return _("{observed}; expected {expected}").format(
            observed=self.observed, expected=self.expected)


def expect(condition: object, *, observed: str, expected: str, hint: str = "") -> None:
    """Fail the current test with student feedback unless `condition` holds."""
    if not condition:
        raise Feedback(observed, expected, hint)


class StudentImportError(Exception):
    """The student's module could not be imported; every test of it is an error."""


class WorkerFault(Feedback):
    """What the worker sent could not be used: charged to the submission, never the grader.

    The worker shares its process with the student's code, which can rewrite
    the worker or write to its channel; a reply the trusted side cannot
    handle is therefore the submission's doing (an error, 0 points).
    """

    def __init__(self, what: str) -> None:
        super().__init__(
            _("the process running your code answered the grader with {what}").format(
                what=what),
            _("well-formed answers from the process running your code"),
            _("your code shares that process with the grader's worker: do not write to its "
              "channel or change the worker's code or data"))
