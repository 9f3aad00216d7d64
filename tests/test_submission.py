"""Finding submissions and copying them safely (grader.submission)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from grader import submission as sub
from grader.submission import Submission, SubmissionError, discover, prepare, submission_for


def tree(root: Path) -> dict[str, tuple[str, str, int]]:
    """Relative path -> (kind, sha256 or link target, mtime_ns) for everything under root."""
    result = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            kind, digest = "link", os.readlink(path)
        elif path.is_file():
            kind, digest = "file", hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            kind, digest = "dir", ""
        result[str(path.relative_to(root))] = (kind, digest, info.st_mtime_ns)
    return result


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


def make_zip(path: Path, entries: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def prepare_into(source: Path, tmp_path: Path, student: str = "s") -> sub.Prepared:
    dest = tmp_path / "dest"
    dest.mkdir()
    return prepare(Submission(student, source), dest)


def notes_text(prepared: sub.Prepared) -> str:
    return "\n".join(prepared.notes)


# --------------------------------------------------------------------------- discover


def test_discover_lists_folders_and_zips_sorted_and_skips_the_rest(tmp_path: Path) -> None:
    (tmp_path / "sidorov").mkdir()
    (tmp_path / "Иванов Иван").mkdir()
    make_zip(tmp_path / "petrov.zip", {"long_func.py": "x = 1\n"})
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "readme.txt").write_text("not a submission")
    found = discover(tmp_path)
    assert [s.student for s in found] == ["petrov", "sidorov", "Иванов Иван"]
    assert found[0].source == tmp_path / "petrov.zip"


def test_discover_lists_links_unresolved_and_prepare_refuses_them(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "real_folder").mkdir(parents=True)
    (elsewhere / "real_folder" / "req.py").write_text("SECRET = 'alice'\n")
    make_zip(elsewhere / "real.zip", {"timing.py": ""})
    (elsewhere / "plain.txt").write_text("x")
    klass = tmp_path / "class"
    klass.mkdir()
    (klass / "kuznetsov").symlink_to(elsewhere / "real_folder")
    (klass / "smirnov.zip").symlink_to(elsewhere / "real.zip")
    (klass / "eve").symlink_to(".")
    (klass / "text").symlink_to(elsewhere / "plain.txt")
    (klass / "dangling").symlink_to(tmp_path / "missing")
    found = discover(klass)
    assert [(s.student, s.source) for s in found] == [
        ("dangling", klass / "dangling"), ("eve", klass / "eve"),
        ("kuznetsov", klass / "kuznetsov"), ("smirnov", klass / "smirnov.zip"),
    ]
    for i, submission in enumerate(found):
        dest = tmp_path / f"dest{i}"
        dest.mkdir()
        with pytest.raises(SubmissionError, match="symbolic link") as refused:
            prepare(submission, dest)
        assert submission.source.name in str(refused.value)
        assert list(dest.iterdir()) == []  # nothing of the target was read or copied


def test_a_link_named_on_the_command_line_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "req.py").write_text("x = 1\n")
    (tmp_path / "mallory").symlink_to("alice")
    found = submission_for(tmp_path / "mallory")
    assert found == Submission("mallory", tmp_path / "mallory")
    with pytest.raises(SubmissionError, match=r"mallory is a symbolic link \(to 'alice'\)"):
        prepare_into(found.source, tmp_path)


def test_distinct_names_for_names_equal_after_normalising(tmp_path: Path) -> None:
    nfc, nfd = "Jos\u00e9", "Jose\u0301"
    for raw in (nfc.encode(), nfd.encode(), b"bad\xff", b"bad\\xff", b"bad\xfe"):
        (tmp_path / os.fsdecode(raw)).mkdir()
    names = {os.fsencode(s.source.name): s.student for s in discover(tmp_path)}
    assert len(set(names.values())) == 5
    assert names[nfc.encode()] == nfc  # its raw name is the name: it keeps it
    assert names[nfd.encode()].startswith(nfc + "~")  # the NFD twin gets a hash suffix
    assert names[b"bad\\xff"] == "bad\\xff"  # literally a backslash: it owns the escape
    assert names[b"bad\xff"].startswith("bad\\xff~")
    assert names[b"bad\xfe"] == "bad\\xfe"  # undecodable but unique: shown escaped, no suffix
    for name in names.values():
        name.encode("utf-8")  # no lone surrogate survives
    other = tmp_path.parent / f"{tmp_path.name}-again"
    other.mkdir()
    for raw in reversed(list(names)):  # another folder, created in the other order
        (other / os.fsdecode(raw)).mkdir()
    again = {os.fsencode(s.source.name): s.student for s in discover(other)}
    assert again == names


def test_distinct_grades_the_same_source_once_and_names_namesakes_apart(tmp_path: Path) -> None:
    for parent in ("a", "b"):
        (tmp_path / parent / "ivanov").mkdir(parents=True)
    first, second = tmp_path / "a" / "ivanov", tmp_path / "b" / "ivanov"
    named = sub.distinct([submission_for(first), submission_for(second), submission_for(first)])
    assert len(named) == 2 and len({s.student for s in named}) == 2
    assert {s.source for s in named} == {first, second}
    assert sub.distinct(named) == named  # already distinct: unchanged


def test_discover_keeps_a_folder_and_a_zip_with_the_same_name_apart(tmp_path: Path) -> None:
    (tmp_path / "ivanov").mkdir()
    make_zip(tmp_path / "ivanov.zip", {"req.py": ""})
    assert [s.student for s in discover(tmp_path)] == ["ivanov", "ivanov.zip"]


def test_discover_of_a_missing_directory_is_a_submission_error(tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match="missing"):
        discover(tmp_path / "missing")


def test_submission_for_dot_gives_the_real_folder_name(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "Петров Пётр"
    folder.mkdir()
    monkeypatch.chdir(folder)
    found = submission_for(Path("."))
    assert found.student == "Петров Пётр"
    assert found.source.resolve() == folder.resolve()


def test_submission_for_a_zip_and_for_bad_paths(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "orlov.ZIP", {"req.py": ""})
    assert submission_for(archive) == Submission("orlov", archive)
    with pytest.raises(SubmissionError, match="nowhere"):
        submission_for(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SubmissionError, match="notes.txt"):
        submission_for(tmp_path / "notes.txt")


# --------------------------------------------------------------------------- folders


def test_symlink_out_of_the_folder_is_skipped_and_one_inside_is_copied(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("teacher's secret")
    folder = tmp_path / "ivanov"
    folder.mkdir()
    (folder / "long_func.py").write_text("URL = 'x'\n")
    (folder / "steal.py").symlink_to(secret)
    (folder / "alias.py").symlink_to("long_func.py")
    (folder / "broken.py").symlink_to("missing.py")
    (folder / "loop.py").symlink_to("loop.py")
    prepared = prepare_into(folder, tmp_path)
    copy = prepared.folder
    assert files_under(copy) == {"long_func.py", "alias.py"}
    assert not (copy / "alias.py").is_symlink()
    assert (copy / "alias.py").read_text() == "URL = 'x'\n"
    text = notes_text(prepared)
    assert "steal.py" in text and "outside" in text
    assert "broken.py" in text and "loop.py" in text


def test_special_files_are_skipped_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "timing.py").write_text("")
    os.mkfifo(folder / "pipe")
    prepared = prepare_into(folder, tmp_path)
    assert files_under(prepared.folder) == {"timing.py"}
    assert "pipe" in notes_text(prepared)


def test_hijacking_files_are_dropped_but_contract_files_kept(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    (folder / "aiohttp").mkdir(parents=True)
    (folder / "aiohttp" / "__init__.py").write_text("fake = True\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "timing.cpython-311.pyc").write_bytes(b"\0")
    (folder / "helpers").mkdir()
    (folder / "helpers" / "json.py").write_text("# not top level: harmless\n")
    for name in ["long_func.py", "timing.py", "req.py", "wiki_stats.py", "utils.py"]:
        (folder / name).write_text(f"# {name}\n")
    dropped = ["conftest.py", "json.py", "asyncio.py", "pytest.ini", "sitecustomize.py",
               "usercustomize.py", "evil.pth", "pyproject.toml", "setup.cfg", "tox.ini",
               "grader.py", "yarl.py"]
    for name in dropped:
        (folder / name).write_text("raise SystemExit('hijacked')\n")
    prepared = prepare_into(folder, tmp_path)
    assert files_under(prepared.folder) == {
        "long_func.py", "timing.py", "req.py", "wiki_stats.py", "utils.py", "helpers/json.py",
    }
    text = notes_text(prepared)
    for name in [*dropped, "aiohttp/", "__pycache__"]:
        assert name in text


def test_a_contract_file_is_never_dropped_even_if_its_name_were_protected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sub, "PROTECTED_MODULES", sub.PROTECTED_MODULES | {"timing"})
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "timing.py").write_text("")
    assert files_under(prepare_into(folder, tmp_path).folder) == {"timing.py"}


def test_single_subfolder_is_unwrapped_twice_ignoring_junk(tmp_path: Path) -> None:
    folder = tmp_path / "ivanov"
    inner = folder / "ivanov" / "hw"
    inner.mkdir(parents=True)
    (inner / "req.py").write_text("")
    (folder / "__MACOSX" / "ivanov").mkdir(parents=True)
    (folder / "__MACOSX" / "ivanov" / "._req.py").write_text("")
    (folder / ".DS_Store").write_text("")
    (folder / "ivanov" / "Thumbs.db").write_text("")
    prepared = prepare_into(folder, tmp_path)
    assert prepared.folder == tmp_path / "dest" / sub.COPY_NAME
    assert files_under(tmp_path / "dest") == {f"{sub.COPY_NAME}/req.py"}
    assert "ivanov/hw" in notes_text(prepared)


def test_a_folder_with_a_file_beside_the_subfolder_is_not_unwrapped(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    (folder / "hw").mkdir(parents=True)
    (folder / "hw" / "req.py").write_text("")
    (folder / "timing.py").write_text("")
    prepared = prepare_into(folder, tmp_path)
    assert prepared.folder == tmp_path / "dest" / sub.COPY_NAME
    assert files_under(prepared.folder) == {"hw/req.py", "timing.py"}


def test_cyrillic_folder_and_file_names_survive(tmp_path: Path) -> None:
    folder = tmp_path / "Иванов Иван"
    (folder / "решения").mkdir(parents=True)
    (folder / "решения" / "long_func.py").write_text("# привет\n", encoding="utf-8")
    (folder / "решения" / "заметки.txt").write_text("да", encoding="utf-8")
    (student,) = discover(tmp_path)
    assert student.student == "Иванов Иван"
    prepared = prepare_into(student.source, tmp_path)
    assert files_under(prepared.folder) == {"long_func.py", "заметки.txt"}
    assert (prepared.folder / "long_func.py").read_text(encoding="utf-8") == "# привет\n"


def test_the_source_folder_is_left_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    (folder / "hw" / "__pycache__").mkdir(parents=True)
    (folder / "hw" / "long_func.py").write_text("x = 1\n")
    (folder / "hw" / "conftest.py").write_text("")
    (folder / "hw" / "__pycache__" / "a.pyc").write_bytes(b"\0")
    (folder / "hw" / "link.py").symlink_to("long_func.py")
    (folder / "hw" / "out.py").symlink_to("/etc/hostname")
    before = tree(folder)
    prepared = prepare_into(folder, tmp_path)
    (prepared.folder / "long_func.py").write_text("changed by the grading run\n")
    assert tree(folder) == before


def test_limits_on_files_depth_and_size(tmp_path: Path) -> None:
    many = tmp_path / "many"
    many.mkdir()
    for i in range(sub.MAX_FILES + 1):
        (many / f"f{i}.txt").write_text("x")
    with pytest.raises(SubmissionError, match="too large"):
        prepare(Submission("many", many), tmp_path)

    deep = tmp_path / "deep"
    nested = deep.joinpath(*["d"] * (sub.MAX_DEPTH + 2))
    nested.mkdir(parents=True)
    (nested / "x.py").write_text("")
    with pytest.raises(SubmissionError, match="too large"):
        prepare(Submission("deep", deep), tmp_path)


def test_a_big_file_is_skipped_but_the_rest_is_kept(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "data.bin").write_bytes(b"\0" * (sub.MAX_FILE_BYTES + 1))
    (folder / "req.py").write_text("")
    prepared = prepare_into(folder, tmp_path)
    assert files_under(prepared.folder) == {"req.py"}
    assert "data.bin" in notes_text(prepared)


def test_total_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sub, "MAX_TOTAL_BYTES", 10_000)
    folder = tmp_path / "s"
    folder.mkdir()
    for i in range(3):
        (folder / f"f{i}.txt").write_bytes(b"x" * 4000)
    with pytest.raises(SubmissionError, match="too large"):
        prepare_into(folder, tmp_path)


def test_hidden_and_virtualenv_folders_are_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    (folder / ".git" / "objects").mkdir(parents=True)
    for i in range(sub.MAX_FILES + 10):  # would exceed the limit if counted
        (folder / ".git" / "objects" / str(i)).write_text("x")
    (folder / "venv" / "lib").mkdir(parents=True)
    (folder / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (folder / "venv" / "lib" / "site.py").write_text("")
    (folder / "timing.py").write_text("")
    prepared = prepare_into(folder, tmp_path)
    assert files_under(prepared.folder) == {"timing.py"}
    assert ".git/" in notes_text(prepared) and "venv" in notes_text(prepared)


def test_a_missing_source_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match="gone.zip"):
        prepare(Submission("gone", tmp_path / "gone.zip"), tmp_path)


# --------------------------------------------------------------------------- zips


def test_zip_with_dotdot_entry_is_rejected_and_writes_nothing(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "evil.zip", {"ok.py": "", "hw/../../escaped.py": "pwned"})
    with pytest.raises(SubmissionError, match=r"\.\."):
        prepare_into(archive, tmp_path)
    assert not (tmp_path / "escaped.py").exists()
    assert not any(p.name == "escaped.py" for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("name", ["/etc/cron.d/evil", "C:/Windows/evil.py", "\\\\server\\x.py"])
def test_zip_with_absolute_entry_is_rejected(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "abs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.py", "")
        info = zipfile.ZipInfo("placeholder")
        info.filename = name  # ZipInfo() strips a leading "/" itself: set it raw
        zf.writestr(info, "pwned")
    with pytest.raises(SubmissionError, match="absolute"):
        prepare_into(archive, tmp_path)


def test_zip_bomb_by_declared_size_is_rejected_before_writing(tmp_path: Path) -> None:
    chunk = b"\0" * (sub.MAX_FILE_BYTES - 1)
    count = sub.MAX_TOTAL_BYTES // len(chunk) + 2
    archive = make_zip(tmp_path / "bomb.zip", {f"f{i}.bin": chunk for i in range(count)})
    assert archive.stat().st_size < 1 << 20  # small on disk, huge unpacked
    with pytest.raises(SubmissionError, match="too large"):
        prepare_into(archive, tmp_path)
    assert not (tmp_path / "dest" / sub.COPY_NAME).exists()


def _patch_headers(archive: Path, name: bytes, local: int, central: int, value: bytes) -> None:
    """Overwrite a field of an entry's local and central headers (at the given offsets)."""
    data = bytearray(archive.read_bytes())
    for signature, offset, name_offset in ((b"PK\x03\x04", local, 30),
                                           (b"PK\x01\x02", central, 46)):
        start = data.find(signature)
        while start != -1:
            if data[start + name_offset : start + name_offset + len(name)] == name:
                data[start + offset : start + offset + len(value)] = value
            start = data.find(signature, start + 4)
    archive.write_bytes(bytes(data))


def test_zip_bomb_with_lying_sizes_is_rejected(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "liar.zip", {"bomb.py": b"\0" * (30 << 20), "req.py": ""})
    _patch_headers(archive, b"bomb.py", 22, 24, struct.pack("<I", 100))  # uncompressed size
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo("bomb.py").file_size == 100  # the lie is in place
    with pytest.raises(SubmissionError):
        prepare_into(archive, tmp_path)
    written = sum(p.stat().st_size for p in (tmp_path / "dest").rglob("*") if p.is_file())
    assert written <= 100


def test_zip_with_too_many_entries_is_rejected(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sub, "MAX_ZIP_ENTRIES", 50)
    archive = make_zip(tmp_path / "many.zip", {f"__MACOSX/{i}": "" for i in range(51)})
    with pytest.raises(SubmissionError, match="entries"):
        prepare_into(archive, tmp_path)


class _NoZipFile:
    """Stands in for zipfile.ZipFile: reading the directory at all fails the test."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("zipfile read the central directory before the limits were checked")


def _set_eocd(archive: Path, **fields: int) -> None:
    """Rewrite fields of the End Of Central Directory record (offsets per APPNOTE 4.3.16)."""
    offsets = {"this_disk": (8, "<H"), "total": (10, "<H"), "size": (12, "<I")}
    data = bytearray(archive.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    for name, value in fields.items():
        offset, fmt = offsets[name]
        data[eocd + offset : eocd + offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
    archive.write_bytes(bytes(data))


def test_too_many_declared_entries_are_refused_before_the_directory_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sub, "MAX_ZIP_ENTRIES", 50)
    archive = make_zip(tmp_path / "many.zip", {f"{i}.txt": "" for i in range(51)})
    monkeypatch.setattr(sub.zipfile, "ZipFile", _NoZipFile)
    with pytest.raises(SubmissionError, match="declares 51 entries"):
        prepare_into(archive, tmp_path)


def test_an_entry_count_that_lies_is_caught_by_counting_the_headers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sub, "MAX_ZIP_ENTRIES", 50)
    archive = make_zip(tmp_path / "liar.zip", {f"{i}.txt": "" for i in range(60)})
    _set_eocd(archive, this_disk=1, total=1)  # zipfile ignores the count and parses all 60
    monkeypatch.setattr(sub.zipfile, "ZipFile", _NoZipFile)
    with pytest.raises(SubmissionError, match="more than 50 entries"):
        prepare_into(archive, tmp_path)


def test_a_huge_central_directory_is_refused_before_it_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sub, "MAX_ZIP_DIRECTORY_BYTES", 1000)
    archive = make_zip(tmp_path / "wide.zip", {f"{i:040}.txt": "" for i in range(20)})
    monkeypatch.setattr(sub.zipfile, "ZipFile", _NoZipFile)
    with pytest.raises(SubmissionError, match="list of entries"):
        prepare_into(archive, tmp_path)


def _as_zip64(archive: Path, declared: int | None = None) -> None:
    """Give the archive ZIP64 end records (the 32-bit record then says 'see ZIP64')."""
    data = archive.read_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    _, _, _, _, total, size, offset, _ = struct.unpack("<4s4H2LH", data[eocd : eocd + 22])
    count = total if declared is None else declared
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size,
                         offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, eocd, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                      0xFFFFFFFF, 0)
    archive.write_bytes(data[:eocd] + record + locator + end)


def test_a_zip64_directory_is_checked_by_its_zip64_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sub, "MAX_ZIP_ENTRIES", 50)
    honest = make_zip(tmp_path / "honest.zip", {f"{i}.txt": "" for i in range(40)})
    _as_zip64(honest)
    with zipfile.ZipFile(honest) as zf:  # still a valid archive, read through ZIP64
        assert len(zf.infolist()) == 40
    assert len(files_under(prepare_into(honest, tmp_path).folder)) == 40
    bomb = make_zip(tmp_path / "bomb.zip", {f"{i}.txt": "" for i in range(40)})
    _as_zip64(bomb, declared=1_000_000)
    monkeypatch.setattr(sub.zipfile, "ZipFile", _NoZipFile)
    with pytest.raises(SubmissionError, match="declares 1000000 entries"):
        prepare(Submission("bomb", bomb), tmp_path / "again")


def test_an_archive_over_the_size_limit_is_refused(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sub, "MAX_ZIP_BYTES", 1000)
    archive = make_zip(tmp_path / "big.zip", {"req.py": os.urandom(2000)})
    monkeypatch.setattr(sub.zipfile, "ZipFile", _NoZipFile)
    with pytest.raises(SubmissionError, match="over the 0.0 MB limit|limit for an archive"):
        prepare_into(archive, tmp_path)


@pytest.mark.parametrize(("first", "second", "shown"), [
    ("req.py", "req.py", "the entry 'req.py' twice"),
    ("w/req.py", "w\\req.py", "'w/req.py' and 'w\\\\req.py'"),
    ("w/Req.py", "w/req.py", "'w/Req.py' and 'w/req.py'"),
    ("Jos\u00e9/req.py", "Jose\u0301/req.py", "twice"),  # equal once normalised
])
def test_duplicate_entries_are_refused_naming_them(tmp_path: Path, first: str, second: str,
                                                   shown: str) -> None:
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zf, pytest.warns(UserWarning, match="Duplicate") \
            if first == second else contextlib.nullcontext():
        zf.writestr(first, "graded = 'first'\n")
        zf.writestr(second, "graded = 'last'\n")
    with pytest.raises(SubmissionError, match="ambiguous") as refused:
        prepare_into(archive, tmp_path)
    assert shown in str(refused.value)
    assert not (tmp_path / "dest" / sub.COPY_NAME).exists()


def test_a_folder_entry_listed_twice_is_not_a_duplicate(tmp_path: Path) -> None:
    archive = tmp_path / "dirs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("w/", "")
        zf.writestr("w/req.py", "x = 1\n")
        with pytest.warns(UserWarning, match="Duplicate"):
            zf.writestr(zipfile.ZipInfo("w/"), "")
    prepared = prepare_into(archive, tmp_path)
    assert files_under(prepared.folder) == {"req.py"}


def test_zip_symlink_entries_are_not_created_as_links(tmp_path: Path) -> None:
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("req.py", "")
        link = zipfile.ZipInfo("passwd.py")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    prepared = prepare_into(archive, tmp_path)
    assert files_under(prepared.folder) == {"req.py"}
    assert not any(p.is_symlink() for p in (tmp_path / "dest").rglob("*"))
    assert "symlink passwd.py" in notes_text(prepared)


def test_encrypted_zip_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "locked.zip"
    make_zip(archive, {"req.py": "garbage standing in for ciphertext"})
    _patch_headers(archive, b"req.py", 6, 8, struct.pack("<H", 0x1))  # "encrypted" flag
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo("req.py").flag_bits & 0x1
    with pytest.raises(SubmissionError, match="password-protected"):
        prepare_into(archive, tmp_path)


@pytest.mark.parametrize("content", [b"this is not a zip", b"PK\x03\x04" + b"\0" * 40])
def test_corrupt_zip_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(content)
    with pytest.raises(SubmissionError, match="broken.zip"):
        prepare_into(archive, tmp_path)


def test_truncated_zip_data_is_a_clear_error(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "cut.zip", {"req.py": os.urandom(50_000)})
    data = bytearray(archive.read_bytes())
    data[100:200] = b"\xff" * 100  # damage the compressed stream, keep the directory
    archive.write_bytes(bytes(data))
    with pytest.raises(SubmissionError, match="cut.zip"):
        prepare_into(archive, tmp_path)


def test_zip_unwraps_nested_folders_and_ignores_macos_junk(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "ivanov.zip", {
        "ivanov/hw/long_func.py": "x = 1\n",
        "ivanov/hw/timing.py": "",
        "ivanov/.DS_Store": "",
        "__MACOSX/ivanov/hw/._long_func.py": "",
        "__MACOSX/._ivanov": "",
    })
    prepared = prepare_into(archive, tmp_path)
    assert prepared.folder == tmp_path / "dest" / sub.COPY_NAME
    assert files_under(prepared.folder) == {"long_func.py", "timing.py"}
    assert (prepared.folder / "long_func.py").read_text() == "x = 1\n"
    assert "ivanov/hw" in notes_text(prepared)


def test_zip_drops_hijacking_files(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "s.zip", {
        "hw/conftest.py": "", "hw/json.py": "", "hw/req.py": "", "hw/wiki_stats.py": "",
        "hw/__pycache__/req.cpython-311.pyc": "",
    })
    prepared = prepare_into(archive, tmp_path)
    assert files_under(prepared.folder) == {"req.py", "wiki_stats.py"}
    assert "conftest.py" in notes_text(prepared) and "json.py" in notes_text(prepared)


def test_zip_with_utf8_cyrillic_names(tmp_path: Path) -> None:
    make_zip(tmp_path / "Сидоров.zip", {"Сидоров/задание/req.py": "# ок\n"})
    (student,) = discover(tmp_path)
    assert student.student == "Сидоров"
    prepared = prepare_into(student.source, tmp_path)
    assert files_under(prepared.folder) == {"req.py"}
    assert "Сидоров/задание" in notes_text(prepared)


def _zip_with_raw_name(path: Path, raw: bytes, data: bytes, extra: bytes = b"") -> Path:
    """A zip whose entry name is the given bytes, without the UTF-8 flag (as old tools do)."""
    placeholder = b"N" * (len(raw) - 3) + b".py"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo(placeholder.decode("ascii"))
        info.extra = extra
        zf.writestr(info, data)
    path.write_bytes(path.read_bytes().replace(placeholder, raw))
    with zipfile.ZipFile(path) as zf:
        assert not zf.infolist()[0].flag_bits & 0x800
    return path


def test_zip_with_cp866_names_from_russian_windows(tmp_path: Path) -> None:
    raw = "Петров/решение.py".encode("cp866")
    archive = _zip_with_raw_name(tmp_path / "petrov.zip", raw, b"x = 1\n")
    prepared = prepare_into(archive, tmp_path)
    assert files_under(prepared.folder) == {"решение.py"}
    assert "Петров" in notes_text(prepared)


def test_zip_with_info_zip_unicode_path_field(tmp_path: Path) -> None:
    raw = b"XXXXXXX.py"
    unicode_name = "задача.py".encode()
    field = b"\x01" + struct.pack("<I", zlib.crc32(raw)) + unicode_name
    extra = struct.pack("<HH", 0x7075, len(field)) + field
    archive = _zip_with_raw_name(tmp_path / "u.zip", raw, b"", extra)
    prepared = prepare_into(archive, tmp_path)
    assert files_under(prepared.folder) == {"задача.py"}


def test_the_source_zip_is_left_untouched(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "s.zip", {"hw/req.py": "x", "hw/conftest.py": ""})
    before = (hashlib.sha256(archive.read_bytes()).hexdigest(), archive.stat().st_mtime_ns)
    prepare_into(archive, tmp_path)
    assert (hashlib.sha256(archive.read_bytes()).hexdigest(),
            archive.stat().st_mtime_ns) == before


def test_zip_big_entry_is_skipped_with_a_note(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.bin", b"\0" * (sub.MAX_FILE_BYTES + 1))
        zf.writestr("req.py", "")
    archive = tmp_path / "big.zip"
    archive.write_bytes(buffer.getvalue())
    prepared = prepare_into(archive, tmp_path)
    assert files_under(prepared.folder) == {"req.py"}
    assert "big.bin" in notes_text(prepared)


def test_bytes_really_written_are_counted_not_just_declared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a file that grows between listing and copying (or any source that lies)
    monkeypatch.setattr(sub, "_file_opener",
                        lambda path: lambda: io.BytesIO(b"\0" * (sub.MAX_FILE_BYTES + 1)))
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "req.py").write_text("small when listed")
    with pytest.raises(SubmissionError, match="too large"):
        prepare_into(folder, tmp_path)
    written = sum(p.stat().st_size for p in (tmp_path / "dest").rglob("*") if p.is_file())
    assert written <= sub.MAX_FILE_BYTES
