"""``docstream import`` and ``export``: odd names, bad files, and the round trip."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from docstream.cli import main
from docstream.collab.loader import load_document
from docstream.storage.sqlite import SqliteDocumentStore


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCSTREAM_MAX_DOCUMENT_CHARS", "100000")
    data = tmp_path / "data"

    async def users() -> None:
        async with SqliteDocumentStore(data / "docstream.sqlite3") as store:
            await store.migrate()
            await store.register_user("ann@example.com", "Ann", "hash")
            await store.register_user("bob@example.com", "Bob", "hash")
            await store.get_or_create_pending_user("pending@example.com")

    data.mkdir()
    asyncio.run(users())
    return data


def texts(data: Path) -> dict[str, tuple[str, str]]:
    """title -> (owner e-mail, text as the server loads it from the log)."""

    async def run() -> dict[str, tuple[str, str]]:
        out = {}
        async with SqliteDocumentStore(data / "docstream.sqlite3") as store:
            for doc_id, title, owner_id in await store.all_document_titles():
                doc, seq = await load_document(store, doc_id)
                record = await store.get_document(doc_id)
                assert record is not None and record.seq == seq
                owner = await store.get_user(owner_id)
                assert owner is not None
                out[title] = (owner.email, doc.text)
        return out

    return asyncio.run(run())


def make_folder(root: Path) -> dict[str, bytes]:
    files = {
        "notes/Ünïcode notes.md": "intro\n# The “real” title\n\nbody 📄\n".encode(),
        "notes/weird?name*.txt": b"question marks\r\nand CRLF\r\n",
        "notes/CON.txt": b"a reserved name on Windows",
        "notes/sub/deeper/Plan.md": b"## not level one\nplain",
        "notes/sub/plan.TXT": b"same title, other case",
        "notes/empty.md": b"",
        "notes/bad.txt": b"fine until \xff\xfe here",
        "notes/nul.md": b"binary\x00junk",
        "notes/big.txt": b"x" * 100_001,
        "notes/image.png": b"\x89PNG not imported from a folder",
    }
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return files


def test_import_a_folder_then_export_and_import_again(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_folder(tmp_path)
    code = main(
        ["import", str(tmp_path / "notes"), "--owner", "Ann@Example.com", "--data-dir", str(data)]
    )
    out, err = capsys.readouterr()
    assert code == 1  # some files were skipped; the others are in
    assert "3 file(s) skipped" in err
    assert "image.png" not in out
    lines = {
        str(tmp_path / "notes" / name): next(x for x in out.splitlines() if f"/notes/{name}" in x)
        for name in ("bad.txt", "nul.md", "big.txt", "Ünïcode notes.md")
    }
    assert "not UTF-8 text (invalid byte at offset 11)" in lines[str(tmp_path / "notes/bad.txt")]
    assert "NUL" in lines[str(tmp_path / "notes/nul.md")]
    assert "more than the limit of 100000" in lines[str(tmp_path / "notes/big.txt")]
    assert lines[str(tmp_path / "notes/Ünïcode notes.md")].startswith("imported ")
    imported = texts(data)
    assert imported == {
        "The “real” title": ("ann@example.com", "intro\n# The “real” title\n\nbody 📄\n"),
        "weird?name*": ("ann@example.com", "question marks\nand CRLF\n"),
        "CON": ("ann@example.com", "a reserved name on Windows"),
        "Plan": ("ann@example.com", "## not level one\nplain"),
        "plan": ("ann@example.com", "same title, other case"),
        "empty": ("ann@example.com", ""),
    }

    out_dir = tmp_path / "export"
    assert main(["export", "--all", str(out_dir), "--data-dir", str(data)]) == 0
    capsys.readouterr()
    written = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.md"))
    assert written == sorted(
        f"ann@example.com/{name}"
        for name in (
            "The “real” title.md",
            "weird_name_.md",
            "_CON.md",
            "Plan.md",
            "plan (2).md",
            "empty.md",
        )
    ) or written == sorted(
        f"ann@example.com/{name}"
        for name in (
            "The “real” title.md",
            "weird_name_.md",
            "_CON.md",
            "plan.md",
            "Plan (2).md",
            "empty.md",
        )
    )
    assert (out_dir / "ann@example.com/weird_name_.md").read_text() == "question marks\nand CRLF\n"

    # The reverse: importing the export for Bob gives the same texts.
    code = main(["import", str(out_dir), "--owner", "bob@example.com", "--data-dir", str(data)])
    assert code == 0, capsys.readouterr()
    capsys.readouterr()
    bobs = {t: text for t, (email, text) in texts(data).items() if email == "bob@example.com"}
    assert sorted(bobs.values()) == sorted(text for _, text in imported.values())

    only_bob = tmp_path / "only-bob"
    assert (
        main(
            [
                "export",
                "--all",
                str(only_bob),
                "--owner",
                "bob@example.com",
                "--data-dir",
                str(data),
            ]
        )
        == 0
    )
    assert [p.name for p in only_bob.iterdir()] == ["bob@example.com"]


def test_import_refusals(tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    note = tmp_path / "a.md"
    note.write_text("# A\n")
    for owner in ("nobody@example.com", "pending@example.com"):
        assert main(["import", str(note), "--owner", owner, "--data-dir", str(data)]) == 1
        assert f"there is no account with the e-mail {owner}" in capsys.readouterr().err
    other = tmp_path / "a.docx"
    other.write_bytes(b"PK")
    code = main(
        [
            "import",
            str(other),
            str(tmp_path / "missing.md"),
            "--owner",
            "ann@example.com",
            "--data-dir",
            str(data),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert f"skipped {other}: not a .txt or .md file" in out
    assert "missing.md: cannot read it (No such file or directory)" in out
    assert texts(data) == {}
    # Export refuses a folder that is not empty, writing nothing.
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    assert main(["export", "--all", str(full), "--data-dir", str(data)]) == 1
    assert "is not an empty folder" in capsys.readouterr().err
    assert [p.name for p in full.iterdir()] == ["keep.txt"]


def test_export_as_html_renders_and_sanitises_each_document(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from testkit.hostile_markdown import CORPUS

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "plan.md").write_text("# Plan\n\n- [x] **done**\n", encoding="utf-8")
    (notes / "hostile.md").write_text(CORPUS, encoding="utf-8")
    assert main(["import", str(notes), "--owner", "ann@example.com", "--data-dir", str(data)]) == 0
    out_dir = tmp_path / "html"
    assert main(["export", "--all", str(out_dir), "--format", "html", "--data-dir", str(data)]) == 0
    capsys.readouterr()
    pages = {p.name: p.read_text(encoding="utf-8") for p in out_dir.rglob("*.html")}
    assert set(pages) == {"Plan.html", "Hostile.html"}
    assert "<h1>Plan</h1>" in pages["Plan.html"]
    assert (
        '<input type="checkbox" disabled="" checked=""> <strong>done</strong>' in pages["Plan.html"]
    )
    body = pages["Hostile.html"].split("<main>", 1)[1]
    assert "<script" not in body and "<iframe" not in body and "<svg" not in body
    assert not re.search(r"<[^>]*\son\w+=", body), "an event handler attribute survived"
    assert not re.search(r"<a [^>]*href=\"(?!https:|mailto:|#|javascript%3a)", body, re.I)
    # txt: the text as it is, under .txt names.
    txt_dir = tmp_path / "txt"
    assert main(["export", "--all", str(txt_dir), "--format", "txt", "--data-dir", str(data)]) == 0
    assert (txt_dir / "ann@example.com" / "Plan.txt").read_text(
        encoding="utf-8"
    ) == "# Plan\n\n- [x] **done**\n"
