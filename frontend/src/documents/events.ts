/**
 * `ragis:documents-changed` on `window` (detail `{collection}`): a collection's documents changed
 * here (an upload finished, a document was deleted or its tags edited). Views that show something
 * derived from them (the list, the empty screen, the ask picker) listen instead of importing each
 * other.
 */
export const DOCUMENTS_CHANGED = 'ragis:documents-changed';

export interface DocumentsChanged {
  collection: string;
}

export function announceDocumentsChanged(collection: string): void {
  if (typeof window === 'undefined') return; // unit tests run without a page
  window.dispatchEvent(new CustomEvent<DocumentsChanged>(DOCUMENTS_CHANGED, { detail: { collection } }));
}

/** Calls `listener` with the collection on every change; answers the function that stops it. */
export function onDocumentsChanged(listener: (collection: string) => void): () => void {
  const handler = (event: Event) => {
    const collection = (event as CustomEvent<Partial<DocumentsChanged>>).detail?.collection;
    if (typeof collection === 'string') listener(collection);
  };
  window.addEventListener(DOCUMENTS_CHANGED, handler);
  return () => window.removeEventListener(DOCUMENTS_CHANGED, handler);
}
