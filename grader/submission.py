"""[parent] Find student submissions and make a private, sanitised copy of one to grade.

A submission comes from a student, so it is treated as hostile: it is never
modified and never run in place. `prepare` copies only plain files and folders
into a directory the grader owns, within limits, refusing archives that try
to escape or explode, and drops files that would take over the Python or
pytest run (a `conftest.py`, a `json.py` shadowing the standard library, ...).
Every decision that changes what gets graded is written into `Prepared.notes`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import struct
import sys
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from grader import catalog
from grader.i18n import _

MAX_FILES = 500
MAX_TOTAL_BYTES = 20 << 20
MAX_FILE_BYTES = 2 << 20  # a bigger single file is skipped, not fatal
MAX_DEPTH = 10  # folder levels
MAX_ZIP_ENTRIES = 5000  # raw entries of an archive, junk included
MAX_ZIP_BYTES = 100 << 20  # the archive file itself (big files inside are skipped, not fatal)
MAX_ZIP_DIRECTORY_BYTES = 4 << 20  # its central directory, checked before zipfile reads it
MAX_UNWRAP = 5  # "one folder holding one folder" levels unwrapped
# Windows has no O_NOFOLLOW, O_NONBLOCK or O_DIRECTORY (it cannot open a folder), and
# needs O_BINARY for bytes as they are (else its C library turns CRLF into LF).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY: int | None = getattr(os, "O_DIRECTORY", None)
_BINARY = getattr(os, "O_BINARY", 0)

JUNK_NAMES = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"})  # ignored silently
HIJACK_FILES = frozenset(
    {"conftest.py", "sitecustomize.py", "usercustomize.py", "pytest.ini", "tox.ini",
     "setup.cfg", "pyproject.toml"}
)  # fmt: skip
HIJACK_SUFFIXES = (".pth", ".pyc", ".pyo")
PROTECTED_MODULES = frozenset(sys.stdlib_module_names) | {
    "aiohttp", "aioresponses", "pytest", "_pytest", "pytest_asyncio", "pytest_timeout",
    "grader", "multidict", "yarl", "click",
}  # fmt: skip
MODULE_SUFFIXES = (".py", ".pyw", ".so", ".pyd")
COPY_NAME = "submission"  # the folder created inside `dest`
_CHUNK = 64 << 10
_UNICODE_PATH_EXTRA = 0x7075  # Info-ZIP's UTF-8 name field
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


class SubmissionError(Exception):
    """A submission that cannot be graded; the message is shown as-is to people."""


@dataclass(frozen=True)
class Submission:
    """One student's hand-in: a folder or a .zip, named after the student."""

    student: str
    source: Path


@dataclass
class Prepared:
    """The private copy to grade and what was changed on the way."""

    folder: Path
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- finding


def discover(directory: Path) -> list[Submission]:
    """Every folder or .zip directly inside `directory`, sorted by student, named distinctly.

    Hidden entries and other files are ignored. A symbolic link is listed under
    its own name but never followed: `prepare` refuses it, so a link to a
    classmate's folder (or to the class folder itself) is reported, not graded.
    """
    directory = Path(directory)
    try:
        names = sorted(entry.name for entry in os.scandir(directory))
    except OSError as exc:
        raise SubmissionError(_("cannot read the folder {folder}: {error}").format(
            folder=_display(str(directory)), error=exc.strerror)) from exc
    found = [s for name in names if not name.startswith(".")
             if (s := _as_submission(directory / name)) is not None]
    return distinct(found)


def submission_for(path: Path) -> Submission:
    """The submission at `path` (a folder, a .zip or a link to refuse); `.` gets its real name."""
    if not os.path.lexists(path):
        raise SubmissionError(_("no such folder or .zip archive: {path}").format(
            path=_display(str(path))))
    path = Path(os.path.abspath(path))  # "." and ".." get their real names
    submission = _as_submission(path, path.name or path.resolve().name or "submission")
    if submission is None:
        raise SubmissionError(_("{path} is neither a folder nor a .zip archive").format(
            path=_display(str(path))))
    return submission


def _as_submission(path: Path, name: str | None = None) -> Submission | None:
    """A folder or .zip; a link is kept unresolved when it leads to one (or nowhere)."""
    name = name or path.name
    try:
        if path.is_symlink():
            return _as_link(path, name)
        if path.is_dir():
            return Submission(_display(name), path)
        if path.is_file() and _is_zip(name, path):
            return Submission(_display(_strip_zip(name) or name), path)
    except OSError:
        pass  # an unreadable entry: not a submission
    return None


def _as_link(path: Path, name: str) -> Submission | None:
    """A link that looks like a hand-in (to a folder or a .zip, or broken) is listed, to refuse."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling or looping: still refused by name, not hidden
        return Submission(_display(_strip_zip(name) or name), path)
    if target.is_dir() or (target.is_file() and _is_zip(name, target)):
        return Submission(_display(_strip_zip(name) or name), path)
    return None  # a link to some other file, like any other file of the class folder


def _is_zip(name: str, target: Path) -> bool:
    return name.lower().endswith(".zip") or target.name.lower().endswith(".zip")


def _strip_zip(name: str) -> str:
    return name[:-4] if name.lower().endswith(".zip") else name


def distinct(submissions: Iterable[Submission]) -> list[Submission]:
    """Sorted by student, each source once, each under a name no other submission has.

    Names are compared as the grader writes them (NFC, undecodable bytes as
    escapes), so `José` typed on Linux (NFC) and on macOS (NFD) would collide.
    The one whose raw name IS that name keeps it; a folder keeps it over a .zip
    (which then keeps its ".zip"); any other gets a short suffix from a hash of
    its raw name, so the same folder is named the same on every run.
    """
    unique: dict[str, Submission] = {}
    for submission in submissions:  # `grade A A`: the same hand-in once
        unique.setdefault(os.path.abspath(submission.source), submission)
    groups: dict[str, list[Submission]] = {}
    for submission in unique.values():
        groups.setdefault(submission.student, []).append(submission)
    taken = set(groups)
    named: list[Submission] = []
    for name, group in groups.items():
        group.sort(key=lambda s: (not _owns_name(s, name), s.source.suffix.lower() == ".zip",
                                  os.fsencode(s.source)))
        named.append(group[0])
        for other in group[1:]:
            new = _free_name(other, name, taken)
            taken.add(new)
            named.append(Submission(new, other.source))
    named.sort(key=lambda s: (s.student.casefold(), s.student))
    return named


def _owns_name(submission: Submission, name: str) -> bool:
    """True when the hand-in's raw name is exactly `name` (or `name`.zip for an archive)."""
    return _strip_zip(submission.source.name) == name


def _free_name(submission: Submission, name: str, taken: set[str]) -> str:
    """The archive's full name if free, else `name~hash` of the raw name (then of the path)."""
    full = _display(submission.source.name)
    if full not in taken:
        return full
    raw = os.fsencode(submission.source.name)
    for seed in (raw, os.fsencode(os.path.abspath(submission.source))):
        digest = hashlib.sha256(seed).hexdigest()
        for width in (6, 12, 64):
            if (candidate := f"{name}~{digest[:width]}") not in taken:
                return candidate
    counter = 2
    while f"{name}~{counter}" in taken:  # only a name built to collide on purpose gets here
        counter += 1
    return f"{name}~{counter}"


def _display(name: str) -> str:
    """A name safe to write as UTF-8 anywhere: NFC, each undecodable byte shown as `\\xNN`.

    Python hands a file name's undecodable bytes over as lone surrogates;
    writing those as UTF-8 fails, and replacing them with U+FFFD would give two
    different folders one name.
    """
    shown = "".join(_escape_surrogate(c) if "\ud800" <= c <= "\udfff" else c for c in name)
    return unicodedata.normalize("NFC", shown)


def _escape_surrogate(char: str) -> str:
    code = ord(char)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


# --------------------------------------------------------------------------- the listing


@dataclass
class _Entry:
    """A file or folder to copy, with its path relative to the submission root."""

    parts: tuple[str, ...]
    is_dir: bool
    size: int = 0
    open: Callable[[], IO[bytes]] | None = None


class _Listing:
    """Collects what a scan keeps, enforcing the limits and recording notes."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.entries: list[_Entry] = []
        self.notes: dict[str, None] = {}  # ordered, without duplicates
        self.hidden: dict[str, None] = {}
        self.files = 0
        self.bytes = 0

    def note(self, text: str) -> None:
        self.notes[text] = None

    def admit(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        """Filter junk, hidden and hijacking entries (noting the last two); True to keep."""
        if any(part in JUNK_NAMES for part in parts):
            return False
        hidden = next((i for i, part in enumerate(parts) if part.startswith(".")), None)
        if hidden is not None:
            folder = is_dir or hidden + 1 < len(parts)
            self.hidden[_show(parts[: hidden + 1]) + ("/" if folder else "")] = None
            return False
        if "__pycache__" in parts:
            cache = parts[: parts.index("__pycache__") + 1]
            self.note(_("dropped {path}/: compiled files are rebuilt from the sources").format(
                path=_show(cache)))
            return False
        name = parts[-1]
        if not is_dir and (name in HIJACK_FILES or name.endswith(HIJACK_SUFFIXES)):
            self.note(_("dropped {path}: it could change how Python or pytest runs").format(
                path=_show(parts)))
            return False
        self._check_depth(parts, is_dir)
        return True

    def add_dir(self, parts: tuple[str, ...]) -> None:
        if parts:
            self.entries.append(_Entry(parts, True))

    def add_file(self, parts: tuple[str, ...], size: int,
                 opener: Callable[[], IO[bytes]]) -> None:
        if size > MAX_FILE_BYTES:
            self.note(_("skipped {path}: {size} is over the {limit} limit for one file").format(
                path=_show(parts), size=_mb(size), limit=_mb(MAX_FILE_BYTES)))
            return
        self.files += 1
        self.bytes += size
        if self.files > MAX_FILES:
            raise SubmissionError(_("submission too large: {label} holds more than {limit} "
                                    "files").format(label=self.label, limit=MAX_FILES))
        if self.bytes > MAX_TOTAL_BYTES:
            raise SubmissionError(_("submission too large: {label} holds more than {limit} of "
                                    "files").format(label=self.label, limit=_mb(MAX_TOTAL_BYTES)))
        self.entries.append(_Entry(parts, False, size, opener))

    def all_notes(self) -> list[str]:
        notes = list(self.notes)
        if self.hidden:
            shown = list(self.hidden)[:10]
            left = len(self.hidden) - 10
            more = _(" and {count} more").format(count=left) if left > 0 else ""
            notes.append(_("skipped hidden files and folders: {paths}{more}").format(
                paths=", ".join(shown), more=more))
        return notes

    def _check_depth(self, parts: tuple[str, ...], is_dir: bool) -> None:
        if len(parts) - (0 if is_dir else 1) > MAX_DEPTH:
            raise SubmissionError(_("submission too large: {label} nests folders more than "
                                    "{limit} levels deep").format(label=self.label,
                                                                  limit=MAX_DEPTH))


def _show(parts: Iterable[str]) -> str:
    return _display("/".join(parts))


def _mb(size: int) -> str:
    return _("{megabytes:.1f} MB").format(megabytes=size / (1 << 20))


# --------------------------------------------------------------------------- scanning a folder


def _scan_folder(root: Path, label: str) -> _Listing:
    """List a folder without following any link out of it."""
    listing = _Listing(label)
    try:
        real_root = _real_folder(root)
        if not os.access(real_root, os.R_OK | os.X_OK):
            raise PermissionError(13, "permission denied")
        _walk(real_root, real_root, (), listing)
    except OSError as exc:
        raise SubmissionError(_cannot_read(label, exc)) from exc
    return listing


def _open_not_a_link(path: Path, flags: int, mode: int = 0o777) -> int:
    """os.open that never follows a symbolic link, and reads and writes bytes as they are.

    Where O_NOFOLLOW does not exist (Windows) the link is refused by its own
    status first: a link swapped in between the two calls is followed there.
    """
    if not _NOFOLLOW and os.path.islink(path):
        raise OSError(errno.ELOOP, "it is a symbolic link")
    return os.open(path, flags | _NOFOLLOW | _BINARY, mode)


def _cannot_read(label: str, exc: OSError) -> str:
    return _("cannot read the submission {label}: {error}").format(
        label=label, error=exc.strerror or exc)


def _real_folder(root: Path) -> Path:
    """The folder's real path, refusing it if it is (or just became) a symbolic link."""
    if _DIRECTORY is None:  # Windows cannot open a folder: its own (not followed) status
        opened = os.lstat(root)
        if stat.S_ISLNK(opened.st_mode):
            raise OSError(errno.ELOOP, "it is a symbolic link")
        real = root.resolve(strict=True)
        now = os.stat(real)
    else:
        fd = os.open(root, os.O_RDONLY | _DIRECTORY | _NOFOLLOW)
        try:
            opened = os.fstat(fd)
            real = root.resolve(strict=True)
            now = os.stat(real)
        finally:
            os.close(fd)
    if (opened.st_dev, opened.st_ino) != (now.st_dev, now.st_ino):
        raise OSError(errno.ELOOP, "it was replaced while being read")
    return real


def _walk(real_root: Path, folder: Path, parts: tuple[str, ...], listing: _Listing) -> None:
    with os.scandir(folder) as scan:
        children = sorted(scan, key=lambda e: e.name)
    for child in children:
        child_parts = (*parts, child.name)
        try:
            _visit(real_root, Path(child.path), child_parts, listing)
        except PermissionError:
            listing.note(_("skipped {path}: it cannot be read").format(path=_show(child_parts)))


def _visit(real_root: Path, path: Path, parts: tuple[str, ...], listing: _Listing) -> None:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        _visit_link(real_root, path, parts, listing)
    elif stat.S_ISDIR(info.st_mode):
        if not listing.admit(parts, True):
            return
        if (path / "pyvenv.cfg").exists():
            listing.note(_("skipped {path}/: a virtual environment is not part of the work")
                         .format(path=_show(parts)))
            return
        listing.add_dir(parts)
        _walk(real_root, path, parts, listing)
    elif stat.S_ISREG(info.st_mode):
        if listing.admit(parts, False):
            listing.add_file(parts, info.st_size, _file_opener(path))
    elif listing.admit(parts, False):
        listing.note(_("skipped {path}: not a regular file").format(path=_show(parts)))


def _visit_link(real_root: Path, path: Path, parts: tuple[str, ...], listing: _Listing) -> None:
    """A link inside the submission is copied as the file it points to; any other is skipped."""
    if not listing.admit(parts, False):
        return
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        listing.note(_("skipped the symlink {path}: it is broken or loops").format(
            path=_show(parts)))
        return
    if not target.is_relative_to(real_root) or target == real_root:
        listing.note(_("skipped the symlink {path}: it points outside the submission").format(
            path=_show(parts)))
    elif not target.is_file():
        listing.note(_("skipped the symlink {path}: it does not point to a file").format(
            path=_show(parts)))
    else:
        listing.add_file(parts, target.stat().st_size, _file_opener(target))


class _Unreadable(Exception):
    """A file of a folder that cannot be opened: skipped with a note, not fatal."""


def _file_opener(path: Path) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        try:
            fd = _open_not_a_link(path, os.O_RDONLY | _NONBLOCK)
        except OSError as exc:
            raise _Unreadable(exc.strerror or str(exc)) from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise _Unreadable(_("it is no longer a regular file"))
        return os.fdopen(fd, "rb")

    return opener


# --------------------------------------------------------------------------- scanning a zip


def _scan_zip(archive: zipfile.ZipFile, label: str) -> _Listing:
    """List an archive, refusing it whole if any entry is unsafe or it is too big."""
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise SubmissionError(_("submission too large: {label} has {count} entries (limit "
                                "{limit})").format(label=label, count=len(infos),
                                                   limit=MAX_ZIP_ENTRIES))
    named = [(info, _zip_parts(info, label)) for info in infos]
    if any(info.flag_bits & _ENCRYPTED_FLAG for info in infos):
        raise SubmissionError(_("{label} is password-protected: pack it again without a "
                                "password").format(label=label))
    _refuse_duplicates(named, label)
    listing = _Listing(label)
    for info, parts in named:
        if parts:
            _zip_entry(archive, info, parts, listing)
    return listing


def _refuse_duplicates(named: list[tuple[zipfile.ZipInfo, tuple[str, ...]]], label: str) -> None:
    """Two files that land on one path make the work ambiguous: refuse, naming them.

    `unzip` keeps the last copy, the grader would read the first, and a teacher
    on macOS or Windows sees whichever their case-insensitive disk kept; so
    names equal after `\\` -> `/`, Unicode normalisation and case folding count too.
    """
    seen: dict[tuple[str, ...], str] = {}
    for info, parts in named:
        if not parts or info.is_dir() or any(part in JUNK_NAMES for part in parts):
            continue
        shown = _display(_zip_name(info))
        key = tuple(unicodedata.normalize("NFC", part.casefold()) for part in parts)
        if key in seen:
            same = (_("the entry {entry} twice").format(entry=repr(shown))
                    if seen[key] == shown else
                    _("the entries {first} and {second}, which land on the same file").format(
                        first=repr(seen[key]), second=repr(shown)))
            raise SubmissionError(_("{label} is ambiguous: it holds {same} (unzip keeps the last "
                                    "copy, the grader would read the first); pack it again "
                                    "with one copy of each file").format(label=label, same=same))
        seen[key] = shown


def _zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, parts: tuple[str, ...],
               listing: _Listing) -> None:
    mode = info.external_attr >> 16
    is_dir = info.is_dir() or stat.S_ISDIR(mode)
    if not listing.admit(parts, is_dir):
        return
    if stat.S_ISLNK(mode):
        listing.note(_("skipped the symlink {path} stored in the archive").format(
            path=_show(parts)))
    elif stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        listing.note(_("skipped {path}: not a regular file").format(path=_show(parts)))
    elif "\0" in "".join(parts):
        listing.note(_("skipped {path}: its name is not valid").format(path=_show(parts)))
    elif is_dir:
        listing.add_dir(parts)
    else:
        listing.add_file(parts, info.file_size, lambda: archive.open(info))


def _zip_parts(info: zipfile.ZipInfo, label: str) -> tuple[str, ...]:
    """The entry's path as safe components; an absolute or `..` path rejects the archive."""
    name = _zip_name(info).replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        raise SubmissionError(_("{label} is unsafe: the entry {entry} has an absolute path")
                              .format(label=label, entry=repr(_display(name))))
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise SubmissionError(_("{label} is unsafe: the entry {entry} points outside the "
                                "archive with '..'").format(label=label,
                                                            entry=repr(_display(name))))
    return parts


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Decode an entry name: UTF-8 when flagged, else Info-ZIP's UTF-8 field, UTF-8, cp866."""
    if info.flag_bits & _UTF8_FLAG:
        return unicodedata.normalize("NFC", info.filename)
    raw = info.filename.encode("cp437")  # zipfile decoded it as cp437, which round-trips
    name = _unicode_path_field(info, raw)
    if name is None:
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            russian = raw.decode("cp866")  # Windows' built-in zip in a Russian locale
            name = russian if all(c.isascii() or "\u0400" <= c <= "\u04ff" or c == "№"
                                  for c in russian) else info.filename
    return unicodedata.normalize("NFC", name)


def _unicode_path_field(info: zipfile.ZipInfo, raw: bytes) -> str | None:
    """The UTF-8 name of Info-ZIP's extra field 0x7075, if it matches this header's name."""
    extra = info.extra
    while len(extra) >= 4:
        tag, size = struct.unpack("<HH", extra[:4])
        data, extra = extra[4 : 4 + size], extra[4 + size :]
        if tag == _UNICODE_PATH_EXTRA and len(data) > 5 and data[0] == 1:
            if struct.unpack("<I", data[1:5])[0] == zlib.crc32(raw):
                try:
                    return data[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


# --------------------------------------------------------------------------- preparing


def prepare(submission: Submission, dest: Path) -> Prepared:
    """Copy `submission` into `dest` (an empty folder the caller owns), sanitised.

    Raises SubmissionError when the submission cannot be graded at all.
    """
    source = Path(submission.source)
    label = _display(source.name)
    _refuse_link(source, label)
    if not source.exists():
        raise SubmissionError(_("the submission {label} does not exist").format(label=label))
    if source.is_dir():
        return _finish(_scan_folder(source, label), Path(dest))
    with _open_file(source, label) as stream, _open_zip(stream, label) as archive:
        try:
            return _finish(_scan_zip(archive, label), Path(dest))
        except _ZIP_ERRORS as exc:
            raise SubmissionError(_("{label} is damaged: {error}").format(
                label=label, error=exc)) from exc


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error,
               NotImplementedError, RuntimeError, zlib.error)
_LINK_SHOWN = 80  # characters of a refused link's target quoted in its message


def _refuse_link(source: Path, label: str) -> None:
    """A submission that is a symbolic link is never followed: it could name anyone's work.

    A pull request adding `submissions/eve -> ../alice` would otherwise be
    graded on alice's files and quote them back in eve's feedback.
    """
    if not source.is_symlink():
        return
    try:
        target = _display(os.readlink(source))
    except OSError:
        target = "?"
    if len(target) > _LINK_SHOWN:
        target = target[:_LINK_SHOWN] + "..."
    raise SubmissionError(_(
        "refused: {label} is a symbolic link (to {target}), not a folder or .zip archive of its "
        "own; links are never followed, so no one is graded on another student's files. Hand "
        "in the real folder.").format(label=label, target=repr(target)))


def _open_file(source: Path, label: str) -> BinaryIO:
    """Open the archive itself, never a link swapped in for it."""
    try:
        fd = _open_not_a_link(source, os.O_RDONLY | _NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            _refuse_link(source, label)
        raise SubmissionError(_cannot_read(label, exc)) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SubmissionError(_("{path} is neither a folder nor a .zip archive").format(
            path=label))
    return os.fdopen(fd, "rb")


def _open_zip(stream: BinaryIO, label: str) -> zipfile.ZipFile:
    try:
        _check_directory(stream, label)
        return zipfile.ZipFile(stream)
    except OSError as exc:
        raise SubmissionError(_cannot_read(label, exc)) from exc
    except _ZIP_ERRORS as exc:
        raise SubmissionError(_("{label} is not a valid zip archive: {error}").format(
            label=label, error=exc)) from exc


# The records zipfile reads first (APPNOTE.TXT 4.3.12-16), and where it looks for them.
# The record signatures of the ZIP format (APPNOTE 4.3), the values of zipfile's own
# undocumented constants (stringEndArchive & co., which typeshed does not declare).
_SIG_EOCD = b"PK\005\006"
_SIG_EOCD64 = b"PK\x06\x06"
_SIG_EOCD64_LOCATOR = b"PK\x06\x07"
_SIG_CENTRAL_DIR = b"PK\001\002"
_EOCD = struct.Struct("<4s4H2LH")  # End Of Central Directory, 22 bytes
_EOCD64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes, just before the EOCD
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # 56 bytes, just before the locator
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # one entry of the central directory, 46 bytes
_MAX_COMMENT = 1 << 16


def _check_directory(stream: BinaryIO, label: str) -> None:
    """Refuse a huge archive or central directory before zipfile reads it.

    zipfile reads the whole central directory and builds an object per entry
    before anyone can count them: a million tiny entries cost hundreds of MiB.
    This finds the End Of Central Directory record exactly as zipfile does,
    checks the archive's size and the count and size the record declares, then
    walks the directory's fixed-size headers, the ones zipfile would parse,
    counting them in one read of at most MAX_ZIP_DIRECTORY_BYTES. A record it
    cannot find is left for zipfile to call invalid.
    """
    size = stream.seek(0, os.SEEK_END)
    if size > MAX_ZIP_BYTES:
        raise SubmissionError(_("submission too large: {label} is {size}, over the {limit} "
                                "limit for an archive").format(label=label, size=_mb(size),
                                                               limit=_mb(MAX_ZIP_BYTES)))
    found = _directory_record(stream, size)
    if found is None:
        return
    declared, directory_size, start = found
    if declared > MAX_ZIP_ENTRIES:
        raise SubmissionError(_("submission too large: {label} declares {count} entries (limit "
                                "{limit})").format(label=label, count=declared,
                                                   limit=MAX_ZIP_ENTRIES))
    if directory_size > MAX_ZIP_DIRECTORY_BYTES:
        raise SubmissionError(_("submission too large: {label} has a {size} list of entries "
                                "(limit {limit})").format(label=label, size=_mb(directory_size),
                                                          limit=_mb(MAX_ZIP_DIRECTORY_BYTES)))
    if start >= 0:
        stream.seek(start)
        entries = _count_entries(stream.read(directory_size))
        if entries > MAX_ZIP_ENTRIES:
            raise SubmissionError(_("submission too large: {label} has more than {limit} "
                                    "entries").format(label=label, limit=MAX_ZIP_ENTRIES))


def _directory_record(stream: BinaryIO, size: int) -> tuple[int, int, int] | None:
    """(entries declared, directory bytes, directory start) as zipfile will read them."""
    if size < _EOCD.size:
        return None
    stream.seek(size - _EOCD.size)
    last = stream.read(_EOCD.size)
    if last[:4] == _SIG_EOCD and last[-2:] == b"\0\0":
        location, record = size - _EOCD.size, last
    else:
        tail_start = max(size - _MAX_COMMENT - _EOCD.size, 0)
        stream.seek(tail_start)
        tail = stream.read()
        at = tail.rfind(_SIG_EOCD)
        if at < 0 or len(tail) - at < _EOCD.size:
            return None
        location, record = tail_start + at, tail[at : at + _EOCD.size]
    fields = _EOCD.unpack(record)
    declared, directory_size = max(fields[3], fields[4]), fields[5]
    start = location - directory_size
    zip64 = _zip64_record(stream, location)
    if zip64 is not None:
        declared, directory_size = max(zip64[6], zip64[7]), zip64[8]
        start = location - directory_size - _EOCD64.size - _EOCD64_LOCATOR.size
    return declared, directory_size, start


def _zip64_record(stream: BinaryIO, location: int) -> tuple[int, ...] | None:
    """The ZIP64 end record zipfile would use: right before its locator, right before the EOCD."""
    at = location - _EOCD64_LOCATOR.size - _EOCD64.size
    if at < 0:
        return None
    stream.seek(at)
    data = stream.read(_EOCD64.size + _EOCD64_LOCATOR.size)
    if len(data) != _EOCD64.size + _EOCD64_LOCATOR.size:
        return None
    locator = _EOCD64_LOCATOR.unpack_from(data, _EOCD64.size)
    record = _EOCD64.unpack_from(data)
    if locator[0] != _SIG_EOCD64_LOCATOR or record[0] != _SIG_EOCD64:
        return None
    return record


def _count_entries(directory: bytes) -> int:
    """How many entry headers zipfile would parse from these bytes (up to the first bad one)."""
    count = offset = 0
    while offset + _CENTRAL.size <= len(directory):
        header = _CENTRAL.unpack_from(directory, offset)
        if header[0] != _SIG_CENTRAL_DIR:
            break
        offset += _CENTRAL.size + header[12] + header[13] + header[14]
        count += 1
        if count > MAX_ZIP_ENTRIES:
            break
    return count


def _finish(listing: _Listing, dest: Path) -> Prepared:
    """Unwrap, drop shadowing modules, and write the copy."""
    notes = listing.all_notes()
    prefix = _wrapper_prefix(listing.entries)
    if prefix:
        notes.append(_("graded the folder {path}/: the submission held nothing else").format(
            path=_show(prefix)))
    entries = [_Entry(e.parts[len(prefix):], e.is_dir, e.size, e.open) for e in listing.entries
               if e.parts[: len(prefix)] == prefix and len(e.parts) > len(prefix)]
    entries = [e for e in entries if not _shadows(e, notes)]
    root = dest / COPY_NAME
    root.mkdir()
    _write_all(entries, root, notes, listing.label)
    return Prepared(root, notes)


def _wrapper_prefix(entries: list[_Entry]) -> tuple[str, ...]:
    """While the level holds nothing but one folder, descend into it (bounded)."""
    prefix: tuple[str, ...] = ()
    for _level in range(MAX_UNWRAP):
        depth = len(prefix)
        below = [e for e in entries if e.parts[:depth] == prefix and len(e.parts) > depth]
        names = {e.parts[depth] for e in below}
        if len(names) != 1:
            break
        is_folder = any(e.is_dir or len(e.parts) > depth + 1 for e in below)
        if not is_folder:
            break
        prefix = (*prefix, names.pop())
    return prefix


def _shadows(entry: _Entry, notes: list[str]) -> bool:
    """A top-level module or package named like one the grader imports (contract files kept)."""
    name = entry.parts[0]
    if name in catalog.contract_files():
        return False
    if entry.is_dir or len(entry.parts) > 1:
        module = name
    elif name.endswith(MODULE_SUFFIXES):
        module = name.split(".", 1)[0]
    else:
        return False
    if module not in PROTECTED_MODULES:
        return False
    shown = f"{_display(name)}/" if entry.is_dir or len(entry.parts) > 1 else _display(name)
    text = _("dropped {path}: it would shadow the module {module} that Python or the tests "
             "import").format(path=shown, module=repr(module))
    if text not in notes:
        notes.append(text)
    return True


def _write_all(entries: list[_Entry], root: Path, notes: list[str], label: str) -> None:
    """Write the entries, counting the bytes really written against the limits."""
    budget = [MAX_TOTAL_BYTES]
    for entry in sorted(entries, key=lambda e: e.parts):
        target = root.joinpath(*entry.parts)
        try:
            if entry.is_dir:
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                _write_file(entry, target, budget, label)
        except FileExistsError:
            notes.append(_("skipped {path}: the archive holds it twice").format(
                path=_show(entry.parts)))
        except (NotADirectoryError, IsADirectoryError):
            notes.append(_("skipped {path}: a file and a folder share its name").format(
                path=_show(entry.parts)))
        except _Unreadable as exc:
            notes.append(_("skipped {path}: {reason}").format(path=_show(entry.parts), reason=exc))
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                raise  # the grader's own disk: not the student's fault
            notes.append(_("skipped {path}: its name is too long").format(
                path=_show(entry.parts)))


def _write_file(entry: _Entry, target: Path, budget: list[int], label: str) -> None:
    assert entry.open is not None
    with entry.open() as source:
        fd = _open_not_a_link(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as out:
            written = 0
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                budget[0] -= len(chunk)
                if written > MAX_FILE_BYTES or budget[0] < 0:
                    raise SubmissionError(_("submission too large: {label} unpacks to more "
                                            "than it declares").format(label=label))
                out.write(chunk)


# --------------------------------------------------------------------------- what was graded


def content_hash(prepared: Prepared) -> str:
    """sha256 of the private copy (every path and its bytes) and of the intake's notes.

    It names exactly what a grading would see and say, so an output folder can
    keep a result for as long as this stays the same (reports/results_file.py).
    Computed on the copy, after intake: a file intake drops or skips never counts.
    """
    digest = hashlib.sha256()
    for path in sorted(prepared.folder.rglob("*"), key=lambda p: p.relative_to(prepared.folder)
                       .parts):
        name = os.fsencode(path.relative_to(prepared.folder).as_posix())
        if path.is_dir():
            digest.update(b"d" + struct.pack("<Q", len(name)) + name)
            continue
        digest.update(b"f" + struct.pack("<Q", len(name)) + name)
        data = path.read_bytes()  # at most MAX_TOTAL_BYTES in all: intake's limits
        digest.update(struct.pack("<Q", len(data)) + data)
    for note in prepared.notes:
        text = note.encode("utf-8", "surrogatepass")
        digest.update(b"n" + struct.pack("<Q", len(text)) + text)
    return digest.hexdigest()
