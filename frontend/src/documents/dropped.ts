/**
 * The files of a drop. Plain files are taken as they are (the server says why one it cannot read
 * is refused); a dropped folder is walked (the File and Directory Entries API, in every browser
 * ragis supports) and only the types ragis reads are kept, as with "Upload a folder".
 */
import { pickReadable, type Picked } from './files';

function fileOf(entry: FileSystemFileEntry): Promise<File | null> {
  return new Promise((resolve) => entry.file(resolve, () => resolve(null)));
}

function batch(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve) => reader.readEntries(resolve, () => resolve([])));
}

/** Every file under `dir`, with its path; a folder nested deeper than `depth` is not entered. */
async function walk(dir: FileSystemDirectoryEntry, out: { file: File; path: string }[], depth = 32): Promise<void> {
  if (depth <= 0) return;
  const reader = dir.createReader();
  // readEntries answers a batch at a time (100 in Chromium) until an empty one.
  for (let entries = await batch(reader); entries.length > 0; entries = await batch(reader)) {
    for (const entry of entries) {
      if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, out, depth - 1);
      else if (entry.isFile) {
        const file = await fileOf(entry as FileSystemFileEntry);
        if (file) out.push({ file, path: entry.fullPath });
      }
    }
  }
}

/** Call during the `drop` event (its items are readable only then); the walk itself may finish later. */
export function droppedFiles(transfer: DataTransfer): Promise<Picked> {
  const entries = [...transfer.items]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  const files = [...transfer.files];
  if (!entries.some((e) => e?.isDirectory)) return Promise.resolve({ files, skipped: 0 });
  return (async () => {
    const plain: File[] = [];
    const found: { file: File; path: string }[] = [];
    for (const entry of entries) {
      if (entry?.isDirectory) await walk(entry as FileSystemDirectoryEntry, found);
      else if (entry?.isFile) {
        const file = await fileOf(entry as FileSystemFileEntry);
        if (file) plain.push(file);
      }
    }
    const paths = new Map(found.map((f) => [f.file, f.path]));
    const picked = pickReadable(found.map((f) => f.file), (f) => paths.get(f) ?? f.name);
    return { files: [...plain, ...picked.files], skipped: picked.skipped };
  })();
}
