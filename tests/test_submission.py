"""Finding submissions and copying them safely (grader.submission)."""

from __future__ import annotations

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


def test_discover_follows_links_to_submissions_only(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "real_folder").mkdir(parents=True)
    make_zip(elsewhere / "real.zip", {"timing.py": ""})
    (elsewhere / "plain.txt").write_text("x")
    klass = tmp_path / "class"
    klass.mkdir()
    (klass / "kuznetsov").symlink_to(elsewhere / "real_folder")
    (klass / "smirnov.zip").symlink_to(elsewhere / "real.zip")
    (klass / "text").symlink_to(elsewhere / "plain.txt")
    (klass / "dangling").symlink_to(tmp_path / "missing")
    found = discover(klass)
    assert [(s.student, s.source) for s in found] == [
        ("kuznetsov", (elsewhere / "real_folder").resolve()),
        ("smirnov", (elsewhere / "real.zip").resolve()),
    ]


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
