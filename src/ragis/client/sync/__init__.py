"""`ragis sync DIR`: make a collection equal to a folder, over the gateway's API only.

`scan` walks the folder and hashes its files, `plan` compares them with ONE listing of the
collection (pure), `run` carries the plan out, `watch` re-runs it when the folder changes.
"""

from ragis.client.sync.plan import Action, LocalFile, Plan, RemoteDocument, make_plan
from ragis.client.sync.run import SyncSummary, sync_folder
from ragis.client.sync.scan import Scan, scan_folder

__all__ = [
    "Action",
    "LocalFile",
    "Plan",
    "RemoteDocument",
    "Scan",
    "SyncSummary",
    "make_plan",
    "scan_folder",
    "sync_folder",
]
