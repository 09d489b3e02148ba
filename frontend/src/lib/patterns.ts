/**
 * The gateway's patterns (from its OpenAPI schema, see ./types), made fit for `<input pattern>`.
 *
 * A schema's pattern is an ECMAScript regular expression, often anchored. Browsers anchor an input's
 * `pattern` themselves and compile it with the `v` flag, under which a class may not hold a bare
 * `-`, `(`, `)`, `{`, `}`, `/` or `|`: an invalid pattern is silently ignored, so the field would
 * accept anything. `inputPattern` drops the anchors and escapes those characters.
 */

const CLASS_SYNTAX = new Set(['(', ')', '{', '}', '/', '|']);

export function inputPattern(schemaPattern: string): string {
  let source = schemaPattern;
  if (source.startsWith('^')) source = source.slice(1);
  if (source.endsWith('$') && !source.endsWith('\\$')) source = source.slice(0, -1);
  let out = '';
  let inClass = false;
  let classStart = 0; // index in `source` of the class's first member
  for (let i = 0; i < source.length; i += 1) {
    const c = source[i];
    if (c === '\\') {
      out += source.slice(i, i + 2);
      i += 1;
      continue;
    }
    if (!inClass) {
      if (c === '[') {
        inClass = true;
        classStart = source[i + 1] === '^' ? i + 2 : i + 1;
        if (source[i + 1] === '^') {
          out += '[^';
          i += 1;
          continue;
        }
      }
      out += c;
      continue;
    }
    if (c === ']') {
      inClass = false;
      out += c;
    } else if (c === '[' || CLASS_SYNTAX.has(c)) {
      out += `\\${c}`;
    } else if (c === '-' && (i === classStart || source[i + 1] === ']')) {
      out += '\\-'; // a literal '-' (first or last), not a range
    } else {
      out += c;
    }
  }
  return out;
}
