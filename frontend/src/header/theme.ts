/** Light or dark: the user's stored choice, else the system's (followed live until one is made). */
import { load, save } from '../lib/storage';

export type Theme = 'light' | 'dark';

const dark = () => window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;

export function storedTheme(): Theme | null {
  const value = load('ragis.theme');
  return value === 'light' || value === 'dark' ? value : null;
}

export function initialTheme(): Theme {
  return storedTheme() ?? (dark() ? 'dark' : 'light');
}

/** Show `theme`; `remember` stores it as the user's choice. */
export function applyTheme(theme: Theme, remember = false): void {
  document.documentElement.dataset.theme = theme;
  if (remember) save('ragis.theme', theme);
}

/** Follow the system's theme while the user has made no choice; returns the unsubscribe. */
export function followSystem(onChange: (theme: Theme) => void): () => void {
  const query = window.matchMedia?.('(prefers-color-scheme: dark)');
  if (!query) return () => {};
  const listener = () => {
    if (storedTheme() === null) onChange(query.matches ? 'dark' : 'light');
  };
  query.addEventListener('change', listener);
  return () => query.removeEventListener('change', listener);
}
