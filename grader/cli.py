"""[parent] The `grader` command line (docs/cli.md): one function per command, work elsewhere."""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import click
from click.core import ParameterSource

from grader import (
    __version__,
    catalog,
    gradescope,
    grading,
    handout,
    i18n,
    layout,
    sandbox,
    selfcheck,
    trusted_limits,
)
from grader.i18n import N_, _, ngettext
from grader.progress import OnProgress
from grader.reports import ci as ci_report
from grader.reports import closing, escape, live, store
from grader.reports.feedback import render_check, render_summary_line
from grader.reports.merge import merge_with_meta
from grader.reports.results_file import ResultsFile
from grader.results import SubmissionResult
from grader.submission import Submission, SubmissionError, discover, distinct, submission_for

DEFAULT_OUT = Path("grading-results")
# Test processes in flight: they mostly wait on holds the suites choose, so several per core.
# Measured (2 cores, bwrap, 16 demo-class copies, loaded machine): -j 2 8.8 s a submission,
# -j 4 4.6 s, -j 8 3.8 s, -j 16 2.9 s; peak memory of the whole grader 190, 290, 440, 760 MiB
# (it grows with what is in flight, about 50 MiB a test process, not with the class). 4 per
# core, at most 12 (about 600 MiB on any machine), keeps it well under 1 GiB; `grader check`
# (4 assignments) runs them all at once from 1 core up.
DEFAULT_JOBS = min(4 * (os.cpu_count() or 1), 12)
# `check` grades one submission: by default enough test processes for every assignment's
# suite to be split MAX_SHARDS ways (grading.shards_for), whatever the cores
CHECK_JOBS = len(catalog.assignments()) * grading.MAX_SHARDS


def _set_language(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    """Speak `value` (else GRADER_LANG, else the course's); test processes get it in TestRun."""
    return i18n.use(value)


# click's own words in the help: its headings and the help of -h/--help (click speaks English)
_CLICK_WORDS = (N_("Usage:"), N_("Options"), N_("Commands"), N_("Positional arguments"))
_HELP_HELP = N_("Show this message and exit.")
_DEFAULT = N_("default:")


def _lang_in(args: Sequence[str]) -> str | None:
    """The --lang given before the command's name, read before click parses anything.

    `grader -h --lang ru` would otherwise print the help before --lang is seen.
    """
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
        if not arg.startswith("-"):
            return None
    return None


class _Formatter(click.HelpFormatter):
    """click's help layout with its headings ("Usage:", "Options") in the chosen language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        usage = _(prefix or "Usage:")
        super().write_usage(prog, args, f"{usage} ")

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        with super().section(_(name)):
            yield


class _Context(click.Context):
    formatter_class = _Formatter


class _TranslatedHelp:
    """Help texts marked N_() where the command is declared, translated when shown.

    click reads them at import, before `--lang` chose a language: storing the
    English and translating on each read makes `grader --lang ru check -h` Russian.
    """

    _help: str | None = None
    _short_help: str | None = None
    _help_values: Mapping[str, str] = MappingProxyType({})  # {placeholders} of the help

    @property
    def help(self) -> str | None:
        if not self._help:
            return self._help
        text = _(self._help)
        return text.format(**self._help_values) if self._help_values else text

    @help.setter
    def help(self, value: str | None) -> None:
        self._help = value

    @property
    def short_help(self) -> str | None:
        return _(self._short_help) if self._short_help else self._short_help

    @short_help.setter
    def short_help(self, value: str | None) -> None:
        self._short_help = value


def _translated_help_option(shown: click.Option | None) -> click.Option | None:
    """-h/--help, made by click with its English help: said in the chosen language."""
    if shown is not None:
        shown.help = _(_HELP_HELP)
    return shown


class _Option(_TranslatedHelp, click.Option):
    def __init__(self, *args: Any, help_values: Mapping[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._help_values = help_values or {}

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        names, text = record
        default = _(_DEFAULT)
        return names, text.replace("[default: ", f"[{default} ")


class _Command(_TranslatedHelp, click.Command):
    context_class = _Context

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return _translated_help_option(super().get_help_option(ctx))


class _Group(_TranslatedHelp, click.Group):
    context_class = _Context
    command_class = _Command

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return _translated_help_option(super().get_help_option(ctx))

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        if parent is None:  # the top command: speak --lang (or GRADER_LANG) from the start
            i18n.use(_lang_in(args))
        return super().make_context(info_name, args, parent, **extra)


option = functools.partial(click.option, cls=_Option)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]},
             help=N_("Grade the asyncio course's exercises (`grader list` shows them) and "
                     """explain every lost point.

\b
Students:  grader check            grade the current folder, with hints
Teachers:  grader grade all DIR    grade a whole class into ./grading-results
CI:        grader ci               grade the folders a pull request changed"""))
@click.version_option(__version__, prog_name="grader", cls=_Option,
                      help=N_("Show the version and exit."))
@option("--lang", type=click.Choice(i18n.LANGUAGES), envvar=i18n.ENV, is_eager=True,
        expose_value=False, callback=_set_language,
        help=N_("Language of every report (default: the course's, ru)."))
def main() -> None:
    """The command group: each command below does one thing."""


def _out_option(f):  # type: ignore[no-untyped-def]
    return option(
        "--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT,
        show_default=True, help=N_("Folder for results.json and gradebook.csv."),
    )(f)


def _force_option(f):  # type: ignore[no-untyped-def]
    return option(
        "--force", is_flag=True,
        help=N_("Grade again even the submissions OUT already holds a result for (same files, "
                "same suites)."),
    )(f)


def _jobs_option(f):  # type: ignore[no-untyped-def]
    return option(
        "-j", "--jobs", type=click.IntRange(min=1), default=DEFAULT_JOBS, show_default=True,
        help=N_("Test processes to run at once (any positive number; default: 4 per core, at "
                "most 12, since grading mostly waits on held answers)."),
    )(f)


def _isolation_option(f):  # type: ignore[no-untyped-def]
    return option(
        "--require-isolation", "require", type=click.Choice(sandbox.REQUIREMENTS),
        default=None,
        help=N_("Refuse to grade unless student code can run at least this isolated "
                "({levels}); LEVEL+seccomp also demands the syscall filter."),
        help_values={"levels": " > ".join(sandbox.LEVELS)},
    )(f)


def _require_isolation(required: str | None, own_code: bool = False) -> None:
    """Stop before grading when the machine cannot give the isolation asked for.

    The `process` level (no POSIX process controls: Windows) is for a person's
    own code on their own machine (`own_code`: `check`, `selfcheck`); the
    commands that grade others' code refuse it unless it is asked for by name.
    """
    if required is not None and not sandbox.at_least(required):
        raise click.UsageError(_(
            "this machine gives only `{isolation}`, below the required `{required}`. Install "
            "bubblewrap and libseccomp2 (Debian: apt-get install bubblewrap libseccomp2) or "
            "lower --require-isolation.").format(isolation=sandbox.isolation(), required=required))
    if sandbox.level() == "process" and not own_code and required != "process":
        raise click.UsageError(_(
            "this system has no POSIX process controls (Windows): student code would run as "
            "a plain process of its own, with no limits but its time and output (the `process` "
            "level). That is for a student's own check of their own code (`grader check`). To "
            "grade others' code here anyway, pass --require-isolation process; better, grade "
            "on Linux with bubblewrap (or in WSL)."))


def _say_if_weaker() -> None:
    """One line when this system isolates a student's code less than Linux's sandbox does."""
    level = sandbox.level()
    if level == "process":
        _say(_("Weaker isolation on this system (`process`): your code runs as a plain "
               "process of yours, with your files and network; only its time and output are "
               "limited. Teachers grade it sandboxed on Linux."))
    elif level == "rlimits":
        _say(_("Weaker isolation on this system (`rlimits`): your code runs as you, with your "
               "files and network; its time, memory and output are limited. Teachers grade it "
               "sandboxed on Linux."))


def _in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _say(text: str, *, err: bool = False) -> None:
    """Print a line that may quote a submission; under GitHub Actions no line of it is a command.

    The pieces a student controls are already escaped for a terminal by the report
    that made `text`; this also breaks what the Actions runner would read as a
    workflow command (escape.workflow_log).
    """
    click.echo(escape.workflow_log(text) if _in_github_actions() else text, err=err)


def _shown(text: str) -> str:
    """A message that may quote a path or name (usage errors): safe for a terminal and a CI log."""
    shown = escape.terminal(text)
    return escape.workflow_log(shown) if _in_github_actions() else shown


@contextlib.contextmanager
def _commands_stopped() -> Iterator[None]:
    """Under GitHub Actions, the runner obeys no workflow command while the batch prints.

    GitHub's stop-commands mechanism with a token nobody can guess; our own
    annotations come after it. A second layer under `_say`'s escaping.
    """
    if not _in_github_actions():
        yield
        return
    token = secrets.token_hex(16)
    click.echo(f"::stop-commands::{token}")
    try:
        yield
    finally:
        click.echo(f"::{token}::")


class _Problems:
    """Reporting errors of the run: each is said at once, the batch goes on, the exit is 1."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, problem: str) -> None:
        if problem:
            self.found.append(problem)
            _say(f"grader: {escape.terminal(problem)}", err=True)

    def exit_if_any(self) -> None:
        if self.found:
            count = len(self.found)
            _say(ngettext("grader: {count} reporting problem; see above.",
                          "grader: {count} reporting problems; see above.", count
                          ).format(count=count), err=True)
            sys.exit(1)


def _parse_shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        k, n = (int(part) for part in value.split("/"))
    except ValueError:
        raise click.BadParameter(_("use K/N, e.g. 2/4")) from None
    if not 1 <= k <= n:
        raise click.BadParameter(_("K must be between 1 and N"))
    return k, n


@main.command(short_help=N_("Grade a class or named submissions into OUT."), help=N_("""\
Grade submissions and write OUT/results.json and OUT/gradebook.csv.

\b
grader grade all            the demo class shipped with the grader
grader grade all DIR        every folder or .zip directly inside DIR
grader grade A B.zip ...    only the named submissions
A folder literally named "all" is graded with `grader grade ./all`.

OUT keeps every student graded into it: a submission whose files and
hidden suites are unchanged since it was stored is not graded again
(--force grades it again), and the others' results stay."""))
@click.argument("targets", nargs=-1, required=True, metavar="all [DIR] | FOLDER...")
@_out_option
@_jobs_option
@option("--shard", metavar="K/N", help=N_("Grade only the K-th of N slices of the class."))
@_force_option
@_isolation_option
def grade(targets: tuple[str, ...], out: Path, jobs: int, shard: str | None, force: bool,
          require: str | None) -> None:
    """`grader grade`: its help (above) is what a teacher reads."""
    submissions = _targets(targets)
    _require_isolation(require)
    sliced = _parse_shard(shard)
    if sliced is not None:
        k, n = sliced
        submissions = [s for i, s in enumerate(submissions) if i % n == k - 1]
    problems = _Problems()
    with _output_folder(out, submissions, force, problems) as results_file, _commands_stopped():
        results, kept = _grade_with_progress(submissions, results_file, jobs, problems, force)
        _say_closing(results, kept)
        graded = len(results) - len(kept)
        click.echo(_("Graded {graded} submission(s), kept {kept} unchanged; "
                     "{out}/results.json and {out}/gradebook.csv list {students} student(s)"
                     ).format(graded=graded, kept=len(kept), out=out,
                              students=len(results_file.results)))
        _report_internal_errors(results, problems)
    problems.exit_if_any()


def _say_closing(results: list[SubmissionResult], kept: set[str]) -> None:
    """The closing table and the problems seen, fitted to the terminal (plain text)."""
    table = closing.render_closing(results, kept, shutil.get_terminal_size((100, 24)).columns)
    if table:
        _say(table)


@contextlib.contextmanager
def _output_folder(out: Path, targets: Sequence[Submission], force: bool,
                   problems: _Problems) -> Iterator[ResultsFile]:
    """OUT held by this run alone, opened with everything earlier runs stored in it."""
    try:
        with store.lock(out):
            results_file = ResultsFile(out, isolation=sandbox.isolation())
            for problem in results_file.problems:
                problems.add(problem)
            _settle_stale(results_file, {s.student for s in targets}, force)
            try:
                yield results_file
            finally:  # what `record` left for later, even after Ctrl-C
                try:
                    results_file.flush()
                except OSError as exc:
                    problems.add(_("could not write {out}: {error}").format(out=out, error=exc))
                problems.add(results_file.write_report())
    except store.OutputBusy as exc:
        raise click.UsageError(_shown(str(exc))) from None


def _settle_stale(results_file: ResultsFile, targets: set[str], force: bool) -> None:
    """Students OUT holds from other suites, not graded now: refused, or dropped with --force.

    One results.json has one suite_hash, so they cannot stay beside new results;
    losing them silently would be worse than stopping.
    """
    left = [name for name in results_file.stale if name not in targets]
    if not left:
        return
    out = results_file.out_dir
    shown = ", ".join(escape.terminal(name) for name in left[:10])
    more = _(" and {count} more").format(count=len(left) - 10) if len(left) > 10 else ""
    if not force:
        raise click.UsageError(_shown(_(
            "{out} holds {count} student(s) graded with other hidden suites or another "
            "grader version, not graded in this run: {names}{more}. Grade them again into it "
            "(grader grade all CLASS --out {out}), choose another --out, or add --force to "
            "drop them.").format(out=out, count=len(left), names=shown, more=more)))
    results_file.forget(left)
    _say(_("grader: dropped {count} student(s) graded with other suites from {out} "
           "(--force): {names}{more}").format(count=len(left), out=out, names=shown, more=more),
         err=True)


def _report_internal_errors(results: list[SubmissionResult], problems: _Problems) -> None:
    """The pairs the grader itself failed on make the exit status 1 (docs/cli.md)."""
    failed = grading.internal_errors(results)
    if failed:
        shown = ", ".join(escape.terminal(name) for name in failed[:10])
        problems.add(_("the grader itself failed on {count} assignment(s): {names}; "
                       "their results say why.").format(count=len(failed), names=shown))


def _targets(targets: tuple[str, ...]) -> list[Submission]:
    try:
        if targets[0] == "all":
            if len(targets) > 2:
                raise click.UsageError(_("`grade all` takes at most one folder"))
            folder = Path(targets[1]) if len(targets) == 2 else _demo_class()
            if not folder.is_dir():
                raise click.UsageError(_("{folder} is not a folder").format(folder=folder))
            return discover(folder)
        for target in targets:
            _refuse_class_folder(Path(target))
        return distinct(submission_for(Path(t)) for t in targets)
    except SubmissionError as exc:
        raise click.UsageError(_shown(str(exc))) from None


def _refuse_class_folder(target: Path) -> None:
    """`grader grade CLASS` (without `all`) would grade the class as one student: stop, hint."""
    students = layout.class_size(target)
    if students:
        raise click.UsageError(_shown(_(
            "{target} holds {count} submissions, not one: to grade the class, run "
            "`grader grade all {target}`; to grade some students, name their folders."
        ).format(target=target, count=students)))


def _demo_class() -> Path:
    """The demo class of a clone; an installed grader says to name a class folder instead."""
    try:
        return catalog.demo_class_dir()
    except catalog.CourseFolderMissing as exc:
        raise click.UsageError(_shown(_("{problem} Or name the class: grader grade all DIR.")
                                      .format(problem=exc))) from None


def _reuse(results_file: ResultsFile, force: bool, kept: set[str]) -> grading.Reuse:
    """What grading asks before grading a submission: OUT's result for the same content.

    None with `force`, when that result's code ran under another isolation than
    this machine gives now (a class graded under rlimits is graded again in bwrap),
    or when its messages are in another language than this run's; each student
    whose result is reused is added to `kept`.
    """
    here = (sandbox.level(), sandbox.syscall_filter(), i18n.language())

    def reuse(student: str, content: str) -> SubmissionResult | None:
        result = None if force else results_file.reusable(student, content)
        if result is not None and (
                result.isolation, result.syscall_filter, result.language) != here:
            result = None
        if result is not None:
            kept.add(student)
        return result

    return reuse


def _grade_with_progress(
    submissions: Sequence[Submission], results_file: ResultsFile, jobs: int,
    problems: _Problems, force: bool = False,
) -> tuple[list[SubmissionResult], set[str]]:
    """Grade, writing each result as it comes: a bar on a terminal, plain lines in logs.

    A submission OUT already holds for the same content and suites is not
    graded again unless `force`; the students whose result was kept come back
    beside the results. Recording or printing one result never raises: a
    failure is noted for that student (ResultsFile.record) and in `problems`,
    and the batch goes on.
    """
    trusted_limits.limit_parent(jobs)
    total = len(submissions)
    done = 0
    kept: set[str] = set()
    reuse = _reuse(results_file, force, kept)

    def record(result: SubmissionResult) -> str:
        nonlocal done
        done += 1
        problems.add(results_file.record(result))
        try:
            line = render_summary_line(result)
            if result.student in kept:
                return _("{line} (unchanged: kept)").format(line=line)
            return line
        except Exception as exc:  # noqa: BLE001 - a progress line is not worth a batch
            problems.add(_("could not print the result of {student}: {error}").format(
                student=repr(result.student), error=exc))
            return escape.terminal(result.student)

    console = live.terminal_console(sys.stderr.isatty())
    if console is not None:
        view = live.GradeView(total, len(catalog.assignments()))
        with live.showing(view, console) as on_progress:
            def on_result(result: SubmissionResult) -> None:
                record(result)
                view.finished(kept=result.student in kept)

            results = grading.grade(submissions, jobs=jobs, on_result=on_result, reuse=reuse,
                                    on_progress=on_progress)
            return results, kept

    def log_line(result: SubmissionResult) -> None:
        line = record(result)
        _say(f"[{done}/{total}] {line}")

    return grading.grade(submissions, jobs=jobs, on_result=log_line, reuse=reuse), kept


@main.command(short_help=N_("Grade one folder and explain every lost point."), help=N_("""\
Grade one folder (default: the current one) and explain every lost point.

In the kit of `grader handout` (each assignment's file in its own folder)
the files are found there."""))
@click.argument("folder", default=".", type=click.Path(path_type=Path))
@option("--min-score", type=float, help=N_("Exit with status 1 below this total."))
@option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
        help=N_("Also keep the result in this folder (results.json, gradebook.csv); an "
                "unchanged folder is then not graded again."))
@_force_option
@_jobs_option
@_isolation_option
def check(folder: Path, min_score: float | None, out: Path | None, force: bool, jobs: int,
          require: str | None) -> None:
    """`grader check`: its help (above) is what a student reads."""
    if click.get_current_context().get_parameter_source("jobs") is ParameterSource.DEFAULT:
        jobs = max(jobs, CHECK_JOBS)  # one submission: its suites' waits overlap (shards)
        if sandbox.portable():  # each test process a fresh interpreter: no shards, 4 not 12
            jobs = len(catalog.assignments())
    try:
        submission = submission_for(folder)
    except SubmissionError as exc:
        raise click.UsageError(_shown(str(exc))) from None
    _require_isolation(require, own_code=True)
    _say_if_weaker()
    trusted_limits.limit_parent(jobs)
    problems = _Problems()
    with contextlib.ExitStack() as stack:
        if layout.is_kit(folder):
            submission = _from_kit(folder, Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="grader-kit-"))))
        results_file = None
        if out is not None:
            results_file = stack.enter_context(_output_folder(out, [submission], force, problems))
        stack.enter_context(_commands_stopped())
        view = live.CheckView([a.slug for a in catalog.assignments()])
        console = live.terminal_console(sys.stderr.isatty() and not _in_github_actions())
        with live.showing(view, console) as on_progress:  # cleared before the report prints
            if results_file is None:
                [result] = grading.grade([submission], jobs=jobs, on_progress=on_progress)
                kept: set[str] = set()
            else:
                [result], kept = _grade_quietly(submission, results_file, jobs, problems, force,
                                                on_progress)
        try:
            color = sys.stdout.isatty() and not _in_github_actions()  # _say would show ESC
            _say(render_check(result, color=color))
            if kept:
                _say(_("Unchanged since it was graded ({graded_at}): this is the result "
                       "kept in {out}; --force grades it again.").format(
                           graded_at=result.graded_at, out=out))
        except Exception as exc:  # noqa: BLE001 - say the score even if the report broke
            _say(render_summary_line(result))
            problems.add(_("could not write the full report: {error}").format(
                error=f"{type(exc).__name__}: {exc}"))
    problems.exit_if_any()
    if min_score is not None and result.score < min_score:
        sys.exit(1)


def _from_kit(folder: Path, scratch: Path) -> Submission:
    """The kit's assignment files gathered into one submission, said before grading."""
    copy = layout.gather_kit(folder, scratch)
    found = ", ".join(escape.terminal(name) for name in copy.taken) or _("none of them")
    _say(_("This is the course kit: grading each assignment's file where the kit keeps it "
           "({found}).").format(found=found))
    return copy.submission


def _grade_quietly(submission: Submission, results_file: ResultsFile, jobs: int,
                   problems: _Problems, force: bool, on_progress: OnProgress | None = None,
                   ) -> tuple[list[SubmissionResult], set[str]]:
    """One submission into OUT (reusing what it holds unless `force`), with no progress lines."""
    kept: set[str] = set()
    reuse = _reuse(results_file, force, kept)

    def on_result(result: SubmissionResult) -> None:
        problems.add(results_file.record(result))

    return grading.grade([submission], jobs=jobs, on_result=on_result, reuse=reuse,
                         on_progress=on_progress), kept


@main.command(name="gradescope", short_help=N_("Grade inside Gradescope's autograder container."),
              help=N_("Grade one submission and write Gradescope's results.json (run_autograder "
                      "runs this).\n\nA submission that cannot be read still gets a "
                      "results.json: score 0 and why."))
@option("--submission", "submission_dir", type=click.Path(path_type=Path),
              default=gradescope.SUBMISSION_DIR, show_default=True,
              help=N_("The student's files, as Gradescope places them."))
@option("--results", "results_path", type=click.Path(dir_okay=False, path_type=Path),
              default=gradescope.RESULTS_PATH, show_default=True,
              help=N_("Where Gradescope reads results.json."))
@_jobs_option
@_isolation_option
def gradescope_command(submission_dir: Path, results_path: Path, jobs: int,
                       require: str | None) -> None:
    _require_isolation(require)
    trusted_limits.limit_parent(jobs)
    try:
        outcome = gradescope.run(submission_dir, results_path, jobs)
    except OSError as exc:
        raise click.ClickException(_shown(_("could not write {path}: {error}").format(
            path=results_path, error=exc))) from None
    _say(escape.terminal(outcome.problem) if outcome.problem else
         f"{results_path}: {outcome.score:g}")


@main.command(name="list", help=N_("List the assignments: files, points and what each asks."))
def list_assignments() -> None:
    """`grader list`."""
    russian = i18n.language() == "ru"
    for a in catalog.assignments():
        summary = a.summary_ru if russian else a.summary_en
        click.echo(_("{slug:<11} {file:<14} {points:>3} pts  {summary}").format(
            slug=a.slug, file=a.file, points=a.points, summary=summary))
    click.echo(_("{slug:<11} {file:<14} {points:>3} pts  {summary}").format(
        slug=_("total"), file="", points=catalog.max_total(), summary="").rstrip())


@main.command(name="selfcheck", short_help=N_("References must score full marks, stubs 0."),
              help=N_("""\
Grade the reference solutions (must be full marks) and the stubs (must be 0).

The solutions are read from the course folder (a clone, or $GRADER_COURSE_DIR),
never from an installed wheel, which does not hold them."""))
@_jobs_option
def selfcheck_command(jobs: int) -> None:
    """`grader selfcheck`: a course author's check of the suites."""
    try:
        missing = [str(a.solution) for a in catalog.assignments() if not a.solution.is_file()]
    except catalog.CourseFolderMissing as exc:
        raise click.UsageError(_shown(str(exc))) from None
    if missing:
        raise click.UsageError(_shown(_("no reference solution at {paths}").format(
            paths=", ".join(missing))))
    _require_isolation(None, own_code=True)  # the course's own reference solutions
    trusted_limits.limit_parent(jobs)
    report, ok = selfcheck.run(jobs=jobs)
    click.echo(report)
    if not ok:
        sys.exit(1)


@main.command(name="handout", short_help=N_("Write the student kit into OUT."), help=N_(
    "Write the student kit into OUT: statements, stubs, public examples, CI workflow."))
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def handout_command(out: Path) -> None:
    """`grader handout`."""
    written = handout.write(out)
    click.echo(_("Wrote {count} files into {out}").format(count=len(written), out=out))


@main.command(name="ci", short_help=N_("Grade the submissions a pull request changed."),
              help=N_("Grade the submission folders changed since BASE, for a pull request."))
@option("--base", default=None, help=N_("Git ref to diff against [default: the PR's base]."))
@option("--submissions", "submissions_dir", type=click.Path(path_type=Path),
              default=Path("submissions"), show_default=True,
        help=N_("Folder holding one sub-folder per student."))
@option("--min-score", type=float, help=N_("Fail the job when a submission scores below."))
@option("--junit", type=click.Path(dir_okay=False, path_type=Path),
        help=N_("Also write a JUnit XML report here."))
@_out_option
@_jobs_option
@_isolation_option
def ci_command(base: str | None, submissions_dir: Path, min_score: float | None,
               junit: Path | None, out: Path, jobs: int, require: str | None) -> None:
    """`grader ci`: grading in a pull request's job."""
    from grader import changes

    _require_isolation(require)
    base_ref = base or changes.default_base()
    try:
        submissions = changes.changed_submissions(base_ref, submissions_dir)
    except changes.GitError as exc:
        raise click.UsageError(_shown(str(exc))) from None
    if not submissions:
        click.echo(_("No submission under {folder}/ changed since {base}.").format(
            folder=submissions_dir, base=base_ref))
        return
    problems = _Problems()
    with _output_folder(out, submissions, False, problems) as results_file, _commands_stopped():
        results, _kept = _grade_with_progress(submissions, results_file, jobs, problems)
        _publish_summary(results, problems)
        _report_internal_errors(results, problems)
        below = [r for r in results if min_score is not None and r.score < min_score]
        for r in below:
            _say(_("below the minimum {minimum:g}: {student} scored {score:g}").format(
                minimum=min_score, student=escape.terminal(r.student), score=r.score), err=True)
    in_repo = Path(os.path.relpath(os.path.realpath(submissions_dir),
                                   os.path.realpath(changes.repo_root())))
    _publish_annotations(results, junit, problems, in_repo.as_posix())
    problems.exit_if_any()
    if below:
        sys.exit(1)


def _publish_summary(results: list[SubmissionResult], problems: _Problems) -> None:
    """The job summary into $GITHUB_STEP_SUMMARY, or printed; a failure is a problem, not a stop."""
    try:
        summary = ci_report.job_summary_markdown(results)
        summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_path:
            with open(summary_path, "a", encoding="utf-8") as stream:
                stream.write(summary + "\n")
        else:
            _say(summary)
    except (OSError, ValueError) as exc:
        problems.add(_("could not write the job summary: {error}").format(error=exc))


def _publish_annotations(results: list[SubmissionResult], junit: Path | None,
                         problems: _Problems, submissions: str) -> None:
    """Our own workflow commands (escaped per GitHub's rules), then the JUnit file.

    `submissions` is the submissions folder's path in the repository: annotations name
    the student's files by it, as the pull request's diff does.
    """
    if _in_github_actions():
        for line in ci_report.annotations(results, submissions):
            click.echo(line)
    if junit is not None:
        try:
            ci_report.write_junit(results, junit)
        except (OSError, ValueError) as exc:
            problems.add(_("could not write {out}: {error}").format(out=junit, error=exc))


@main.command(name="merge", short_help=N_("Combine the OUT folders of sharded runs."), help=N_("""\
Combine OUT folders (of `grade all --shard K/N` runs, late or re-graded submissions).

A student found in several keeps the newest result (the latest graded_at);
outputs graded with different hidden suites or grader versions are refused."""))
@click.argument("outputs", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
        help=N_("Folder for the combined results.json and gradebook.csv."))
def merge_command(outputs: tuple[Path, ...], out: Path) -> None:
    """`grader merge`."""
    try:
        meta, results = merge_with_meta(list(outputs))
        with store.lock(out):
            merged = ResultsFile(out, isolation=str(meta.get("isolation", "")),
                                 suite_hash=meta["suite_hash"],
                                 grader_version=meta["grader_version"])
            merged.replace_all(results)
            problems = _Problems()
            problems.add(merged.write_report())
    except (ValueError, store.OutputBusy) as exc:
        raise click.UsageError(_shown(str(exc))) from None
    click.echo(_("Merged {count} submission(s) into {out}").format(count=len(results), out=out))
    problems.exit_if_any()
