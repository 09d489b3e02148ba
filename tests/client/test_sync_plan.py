"""The sync plan: the folder's files and one listing of the collection -> actions (pure)."""

from __future__ import annotations

from typing import Any

from ragis.client.sync.plan import (
    Action,
    LocalFile,
    RemoteDocument,
    make_plan,
    remote_documents,
)


def f(source: str, sha: str) -> LocalFile:
    return LocalFile(source, sha, 10)


def d(doc_id: str, source: str, sha: str, created: float = 0.0) -> RemoteDocument:
    return RemoteDocument(doc_id, source, sha, created)


def test_a_new_file_is_uploaded_with_its_source() -> None:
    plan = make_plan([f("a.md", "A")], [])
    assert plan.actions == [Action("upload", "a.md")]
    assert plan.unchanged == []


def test_an_unchanged_file_does_nothing() -> None:
    plan = make_plan([f("docs/a.md", "A")], [d("1", "docs/a.md", "A")])
    assert plan.actions == []
    assert plan.unchanged == ["docs/a.md"]


def test_a_changed_file_replaces_its_old_version() -> None:
    plan = make_plan([f("a.md", "B")], [d("1", "a.md", "A")])
    assert plan.actions == [Action("replace", "a.md", "1")]


def test_a_renamed_file_is_renamed_without_upload() -> None:
    plan = make_plan([f("new/b.md", "A")], [d("1", "a.md", "A")])
    assert plan.actions == [Action("rename", "new/b.md", "1", "a.md")]


def test_a_deleted_file_is_deleted() -> None:
    plan = make_plan([], [d("1", "a.md", "A")])
    assert plan.actions == [Action("delete", "a.md", "1")]
    assert plan.kept == []


def test_keep_deleted_keeps_a_document_whose_file_is_gone() -> None:
    plan = make_plan([], [d("1", "a.md", "A")], keep_deleted=True)
    assert plan.actions == []
    assert plan.kept == ["a.md"]


def test_keep_deleted_still_renames() -> None:
    plan = make_plan([f("b.md", "A")], [d("1", "a.md", "A")], keep_deleted=True)
    assert plan.actions == [Action("rename", "b.md", "1", "a.md")]
    assert plan.kept == []


def test_same_content_at_two_paths_is_one_document_and_the_copy_is_unchanged() -> None:
    # The server keeps one document per content: uploading the copy would be a duplicate at
    # every sync, so the plan does not.
    plan = make_plan([f("a.md", "X"), f("copy/a.md", "X")], [d("1", "a.md", "X")])
    assert plan.actions == []
    assert sorted(plan.unchanged) == ["a.md", "copy/a.md"]
    assert plan.duplicates == {"copy/a.md": "a.md"}


def test_two_new_paths_with_one_content_upload_it_once() -> None:
    plan = make_plan([f("a.md", "X"), f("b.md", "X")], [])
    assert plan.actions == [Action("upload", "a.md")]
    assert plan.duplicates == {"b.md": "a.md"}


def test_a_moved_document_goes_to_one_path_and_the_other_copy_is_the_same() -> None:
    plan = make_plan([f("b.md", "X"), f("c.md", "X")], [d("1", "a.md", "X")])
    assert plan.actions == [Action("rename", "b.md", "1", "a.md")]
    assert plan.duplicates == {"c.md": "b.md"}


def test_a_rename_plus_a_change_is_an_upload_and_a_delete() -> None:
    plan = make_plan([f("b.md", "B")], [d("1", "a.md", "A")])
    assert plan.actions == [Action("upload", "b.md"), Action("delete", "a.md", "1")]


def test_a_rename_plus_a_change_with_keep_deleted_keeps_the_old_one() -> None:
    plan = make_plan([f("b.md", "B")], [d("1", "a.md", "A")], keep_deleted=True)
    assert plan.actions == [Action("upload", "b.md")]
    assert plan.kept == ["a.md"]


def test_two_files_swapping_names_are_replaced_not_renamed() -> None:
    # Both paths are still in the folder: each holds the other's old content.
    plan = make_plan([f("a.md", "B"), f("b.md", "A")], [d("1", "a.md", "A"), d("2", "b.md", "B")])
    assert plan.actions == [Action("replace", "a.md", "1"), Action("replace", "b.md", "2")]


def test_two_documents_with_one_source_keep_the_matching_one() -> None:
    remote = [d("old", "a.md", "A", 1.0), d("new", "a.md", "B", 2.0)]
    plan = make_plan([f("a.md", "A")], remote)
    assert plan.actions == [Action("delete", "a.md", "new")]
    assert plan.unchanged == ["a.md"]


def test_two_documents_with_one_source_neither_matching_replace_the_newest() -> None:
    remote = [d("new", "a.md", "B", 2.0), d("old", "a.md", "A", 1.0)]
    plan = make_plan([f("a.md", "C")], remote)
    assert plan.actions == [Action("replace", "a.md", "new"), Action("delete", "a.md", "old")]


def test_an_unreadable_file_is_neither_deleted_nor_renamed() -> None:
    remote = [d("1", "locked.md", "A"), d("2", "sub/x.md", "B"), d("3", "gone.md", "C")]
    plan = make_plan([f("moved.md", "A")], remote, unreadable=["locked.md", "sub"])
    assert plan.actions == [Action("upload", "moved.md"), Action("delete", "gone.md", "3")]


def test_an_unlistable_folder_root_deletes_nothing() -> None:
    plan = make_plan([], [d("1", "a.md", "A")], unreadable=["."])
    assert plan.actions == []


def test_a_prefix_that_is_not_a_folder_does_not_protect() -> None:
    plan = make_plan([], [d("1", "subway.md", "A")], unreadable=["sub"])
    assert plan.actions == [Action("delete", "subway.md", "1")]


def test_the_listing_keeps_ready_documents_with_a_source_only() -> None:
    listing: list[dict[str, Any]] = [
        {"id": "1", "source": "a.md", "sha256": "A", "status": "ready", "created": 5},
        {"id": "2", "source": None, "sha256": "B", "status": "ready"},
        {"id": "3", "sha256": "C", "status": "ready"},
        {"id": "4", "source": "d.md", "sha256": "D", "status": "failed"},
        {"id": "5", "source": "e.md", "sha256": "E", "status": "indexing"},
        {"id": 6, "source": "f.md", "sha256": "F", "status": "ready"},
    ]
    assert remote_documents(listing) == [d("1", "a.md", "A", 5.0)]


def test_documents_without_a_source_are_never_touched() -> None:
    listing = [{"id": "2", "source": None, "sha256": "B", "status": "ready"}]
    plan = make_plan([], remote_documents(listing))
    assert plan.actions == []


def test_actions_describe_themselves() -> None:
    assert Action("rename", "b.md", "1", "a.md").describe() == "rename  a.md -> b.md"
    assert Action("upload", "b.md").describe() == "upload  b.md"


def test_documents_a_file_carried_follow_it() -> None:
    attachment = d("2", "mail.eml#plan.docx", "P")
    # Unchanged mail: its attachment is left alone (it is no file of the folder).
    plan = make_plan([f("mail.eml", "M")], [d("1", "mail.eml", "M"), attachment])
    assert plan.actions == []
    # A changed mail is uploaded again with its attachments: the old ones go.
    plan = make_plan([f("mail.eml", "M2")], [d("1", "mail.eml", "M"), attachment])
    assert plan.actions == [
        Action("replace", "mail.eml", "1"),
        Action("delete", "mail.eml#plan.docx", "2"),
    ]
    # A moved mail takes its attachments along.
    plan = make_plan([f("old/mail.eml", "M")], [d("1", "mail.eml", "M"), attachment])
    assert plan.actions == [
        Action("rename", "old/mail.eml", "1", "mail.eml"),
        Action("rename", "old/mail.eml#plan.docx", "2", "mail.eml#plan.docx"),
    ]
    # A deleted mail: its attachments too, unless kept.
    plan = make_plan([], [d("1", "mail.eml", "M"), attachment])
    assert sorted(a.doc_id or "" for a in plan.actions if a.kind == "delete") == ["1", "2"]
    kept = make_plan([], [d("1", "mail.eml", "M"), attachment], keep_deleted=True)
    assert kept.actions == []
    assert sorted(kept.kept) == ["mail.eml", "mail.eml#plan.docx"]


def test_a_file_whose_name_holds_a_hash_is_a_file_not_an_attachment() -> None:
    plan = make_plan([f("notes#1.md", "N")], [d("1", "notes#1.md", "N")])
    assert plan.actions == []
    assert plan.unchanged == ["notes#1.md"]
