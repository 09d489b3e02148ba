/**
 * How the UI names retrieval to a user: the modes of the selector near the composer (the choice
 * kept in localStorage; none means the server's RAGIS_RETRIEVAL), and the legs that found a source.
 */
import { load, save } from '../lib/storage';
import type { Leg, RetrievalMode } from '../lib/types';

export interface ModeChoice {
  /** '' = no choice: the request carries no `retrieval` and the server's setting applies. */
  value: RetrievalMode | '';
  label: string;
  title: string;
}

export const MODES: readonly ModeChoice[] = [
  { value: '', label: 'Default', title: "The server's setting (hybrid unless the admin changed it)" },
  { value: 'hybrid', label: 'Hybrid', title: 'Meaning and words: passages close in meaning and passages with the exact words, fused' },
  { value: 'vector', label: 'Meaning', title: 'Passages close in meaning to the question, even in other words' },
  { value: 'lexical', label: 'Words', title: 'Passages with the exact words of the question: codes, part numbers, names' },
];

const VALUES = new Set<string>(MODES.map((m) => m.value).filter(Boolean));

function isMode(value: string | null): value is RetrievalMode {
  return value !== null && VALUES.has(value);
}

/** The stored choice, or null (anything else stored is ignored). */
export function storedMode(): RetrievalMode | null {
  const value = load('ragis.retrieval');
  return isMode(value) ? value : null;
}

export function saveMode(mode: RetrievalMode | null): void {
  save('ragis.retrieval', mode);
}

/** What a user calls a mode the server reports (`MetaEvent.retrieval`). */
export function modeLabel(mode: string): string {
  return MODES.find((m) => m.value === mode)?.label ?? mode;
}

export const LEGS: Record<Leg, { label: string; title: string }> = {
  lexical: { label: 'words', title: 'Found by its words: the passage contains words of the question' },
  vector: { label: 'meaning', title: 'Found by meaning: the passage is close in meaning to the question' },
};

/** The legs in a fixed order (words first), unknown ones dropped. */
export function legsOf(legs: readonly string[] | undefined): Leg[] {
  return (['lexical', 'vector'] as const).filter((leg) => legs?.includes(leg));
}

/** A sentence for screen readers: "Found by words and meaning." */
export function legsSentence(legs: readonly Leg[]): string {
  if (legs.length === 0) return '';
  return `Found by ${legs.map((leg) => LEGS[leg].label).join(' and ')}.`;
}
