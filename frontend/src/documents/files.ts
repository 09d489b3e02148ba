/**
 * Which picked files are worth sending: the types ragis reads, by suffix, the same list as the CLI's
 * `ragis ingest DIR` (src/ragis/client/ingest.py SUPPORTED_SUFFIXES; tests/ui/test_documents_browser.py
 * holds the two equal). A folder's hidden files and folders (a path part starting with ".") are
 * left out as the CLI leaves them out.
 */
export const SUPPORTED_SUFFIXES: readonly string[] = [
  '.txt', '.text', '.md', '.markdown', '.mdown', '.mkd', '.html', '.htm', '.xhtml', '.pdf',
  '.docx', '.docm', '.pptx', '.xlsx', '.xlsm', '.odt', '.epub', '.csv', '.tsv', '.tab',
  '.eml',
];

/** The file picker's `accept`: the suffixes ragis reads. */
export const ACCEPT = SUPPORTED_SUFFIXES.join(',');

export function readable(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && SUPPORTED_SUFFIXES.includes(name.slice(dot).toLowerCase());
}

function hidden(path: string): boolean {
  return path.split('/').some((part) => part.startsWith('.'));
}

export interface Picked {
  files: File[];
  /** How many files were left out (types ragis cannot read, hidden ones). */
  skipped: number;
}

/** A folder's files that ragis reads; `path` is each file's path within the folder. */
export function pickReadable(files: Iterable<File>, path: (file: File) => string = (f) => f.name): Picked {
  const kept: File[] = [];
  let skipped = 0;
  for (const file of files) {
    if (readable(file.name) && !hidden(path(file))) kept.push(file);
    else skipped += 1;
  }
  return { files: kept, skipped };
}
