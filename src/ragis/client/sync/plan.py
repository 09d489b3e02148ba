"""What a sync has to do: the folder's files and the collection's documents -> actions. Pure.

A document belongs to the sync when it has a `source` (its path relative to the folder) and is
`ready`; documents without a source (uploaded by hand, fetched from a URL's...) are left alone,
and so are records that are not ready (failed, or still being indexed: a re-run converges).

- a path the collection does not have: `upload`, unless a ready document with the same sha256
  has a source that is no longer in the folder: then `rename` it (no re-embedding);
- a path whose sha256 differs: `replace` (upload with `replaces=<old id>`: atomic on the server);
- a path with the same sha256: unchanged;
- a new path whose content a document of another path in the folder already holds (or that
  another new path of this plan uploads): unchanged too, as a duplicate. The server keeps one
  document per content (a re-upload of the same bytes is a duplicate), so uploading it would
  change nothing, and would again at every sync;
- a source that is no longer in the folder (and was not renamed): `delete`, unless keep_deleted;
- a source the scan could not read (an unreadable file, or under a folder it could not list) is
  left as it is: a file that cannot be read is not a file that was deleted;
- two ready documents with one source (left by a crash of an older server): the one that matches
  the file is kept (or the newest is replaced), the others deleted;
- a document a file carried (an e-mail's attachment, source `<file>#<name>`) follows its file:
  left alone while the file is unchanged, deleted when the file is replaced (the new upload
  brings the new attachments) or deleted, renamed with it when it moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Action", "LocalFile", "Plan", "RemoteDocument", "make_plan", "remote_documents"]

Kind = Literal["upload", "replace", "rename", "delete"]


@dataclass(frozen=True, slots=True)
class LocalFile:
    source: str  # the path relative to the folder, `/`-separated
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class RemoteDocument:
    id: str
    source: str
    sha256: str
    created: float = 0.0


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    source: str  # the path it is about (for a rename: the new one)
    doc_id: str | None = None  # replace/rename/delete: the document acted on
    old_source: str | None = None  # rename: where the document was

    def describe(self) -> str:
        if self.kind == "rename":
            return f"rename  {self.old_source} -> {self.source}"
        return f"{self.kind:<7} {self.source}"


@dataclass(slots=True)
class Plan:
    actions: list[Action] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # gone from the folder, kept (--keep-deleted)
    #: new paths whose content another path's document holds: path -> that path (unchanged too)
    duplicates: dict[str, str] = field(default_factory=dict)

    def of(self, kind: Kind) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]


def remote_documents(listing: Iterable[Mapping[str, Any]]) -> list[RemoteDocument]:
    """The documents of a listing that a sync manages: ready, with a source."""
    out = []
    for doc in listing:
        source, sha, doc_id = doc.get("source"), doc.get("sha256"), doc.get("id")
        if doc.get("status", "ready") != "ready" or not source:
            continue
        if isinstance(source, str) and isinstance(sha, str) and isinstance(doc_id, str):
            created = doc.get("created")
            stamp = float(created) if isinstance(created, int | float) else 0.0
            out.append(RemoteDocument(doc_id, source, sha, stamp))
    return out


def make_plan(
    local: Sequence[LocalFile],
    remote: Sequence[RemoteDocument],
    *,
    keep_deleted: bool = False,
    unreadable: Iterable[str] = (),
) -> Plan:
    """`unreadable`: the sources (files, or folders: "." is the whole folder) the scan failed
    to read; the documents under them are neither deleted nor renamed."""
    plan = Plan()
    blind = tuple(unreadable)
    remote = [d for d in remote if not _under(d.source, blind)]
    here_files = {f.source for f in local}
    parents = here_files | {d.source for d in remote}
    carried: dict[str, list[RemoteDocument]] = {}
    own: list[RemoteDocument] = []
    for doc in remote:
        parent = None if doc.source in here_files else _parent(doc.source, parents)
        if parent is None:
            own.append(doc)
        else:
            carried.setdefault(parent, []).append(doc)
    remote = own
    by_source: dict[str, list[RemoteDocument]] = {}
    for doc in sorted(remote, key=lambda d: (d.created, d.id)):
        by_source.setdefault(doc.source, []).append(doc)
    here = {f.source for f in local}

    # A document whose source left the folder may have moved: the first new path (in order)
    # with its content takes it over; a second path with the same content is its duplicate.
    movable: dict[str, list[RemoteDocument]] = {}
    for source, docs in by_source.items():
        if source not in here:
            for doc in docs:
                movable.setdefault(doc.sha256, []).append(doc)
    moved: set[str] = set()
    # Content the collection holds for a path that is still in the folder, or that this plan
    # uploads: another path with it would be a duplicate.
    held = {d.sha256: d.source for d in remote if d.source in here}

    for file in sorted(local, key=lambda f: f.source):
        docs = by_source.get(file.source, [])
        if not docs:
            candidates = movable.get(file.sha256)
            if candidates:
                doc = candidates.pop(0)
                moved.add(doc.id)
                plan.actions.append(Action("rename", file.source, doc.id, doc.source))
                held[file.sha256] = file.source
            elif file.sha256 in held:
                plan.unchanged.append(file.source)
                plan.duplicates[file.source] = held[file.sha256]
            else:
                plan.actions.append(Action("upload", file.source))
                held[file.sha256] = file.source
            continue
        same = [d for d in docs if d.sha256 == file.sha256]
        if same:
            keep = same[-1]
            plan.unchanged.append(file.source)
        else:
            keep = docs[-1]
            plan.actions.append(Action("replace", file.source, keep.id))
        plan.actions += [Action("delete", file.source, d.id) for d in docs if d is not keep]

    for source, docs in sorted(by_source.items()):
        if source in here:
            continue
        left = [d for d in docs if d.id not in moved]
        if not left:
            continue
        if keep_deleted:
            plan.kept.append(source)
        else:
            plan.actions += [Action("delete", source, d.id) for d in left]
    _follow_parents(plan, carried, here, keep_deleted)
    return plan


def _parent(source: str, parents: set[str]) -> str | None:
    """The file a carried document came from (`<file>#<name>`), if `source` names one."""
    at = source.find("#")
    while at > 0:
        if source[:at] in parents:
            return source[:at]
        at = source.find("#", at + 1)
    return None


def _follow_parents(
    plan: Plan, carried: Mapping[str, Sequence[RemoteDocument]], here: set[str], keep: bool
) -> None:
    """What happens to a file happens to the documents it carried (see the module doc)."""
    moved_to = {a.old_source: a.source for a in plan.actions if a.kind == "rename"}
    replaced = {a.source for a in plan.actions if a.kind == "replace"}
    for parent, docs in sorted(carried.items()):
        for doc in docs:
            rest = doc.source[len(parent) :]
            if parent in moved_to:
                new = moved_to[parent] + rest
                plan.actions.append(Action("rename", new, doc.id, doc.source))
            elif parent in replaced or (parent not in here and not keep):
                plan.actions.append(Action("delete", doc.source, doc.id))
            elif parent not in here:
                plan.kept.append(doc.source)


def _under(source: str, places: Sequence[str]) -> bool:
    return any(p in (".", source) or source.startswith(p + "/") for p in places)
