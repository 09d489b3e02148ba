/** The few things the UI remembers in localStorage (which can be missing or refuse writes). */

export type StoredKey =
  | 'ragis.session'
  | 'ragis.collection'
  | 'ragis.theme'
  | 'ragis.docs-open'
  | 'ragis.workspace'
  | 'ragis.retrieval';

export function load(key: StoredKey): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function save(key: StoredKey, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // private mode or storage full: the UI still works, it just forgets
  }
}
