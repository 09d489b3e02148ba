/**
 * Tags as the user types them (comma-separated) and as the gateway takes them: trimmed, each once,
 * at most 32, each at most 64 characters, no control character nor backslash (the gateway's own
 * rules, ragis.contract's TAG_PATTERN, so a refusal shows before a request is sent).
 */
export const MAX_TAGS = 32;
export const MAX_TAG_CHARS = 64;

export type ParsedTags = { ok: true; tags: string[] } | { ok: false; error: string };

export function parseTags(text: string): ParsedTags {
  const tags: string[] = [];
  for (const raw of text.split(',')) {
    const tag = raw.trim();
    if (tag && !tags.includes(tag)) tags.push(tag);
  }
  if (tags.length > MAX_TAGS) return { ok: false, error: `${tags.length} tags: at most ${MAX_TAGS}.` };
  const long = tags.find((t) => t.length > MAX_TAG_CHARS);
  if (long) return { ok: false, error: `“${long.slice(0, 20)}…” is over ${MAX_TAG_CHARS} characters.` };
  // A tag is a word to filter by: a control character in one is a paste gone wrong.
  const control = tags.find((t) => /\p{Cc}/u.test(t));
  if (control !== undefined) return { ok: false, error: 'A tag cannot hold control characters.' };
  // The search's filter expressions cannot spell a backslash: the gateway refuses such a tag.
  const slash = tags.find((t) => t.includes('\\'));
  if (slash !== undefined) return { ok: false, error: `“${slash.slice(0, 20)}” holds a backslash, which a filter cannot match.` };
  return { ok: true, tags };
}
