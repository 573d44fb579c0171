/**
 * A guard run before JSON.parse on long lines: a line whose JSON would hold more fields than the
 * pipeline's `limits.max_fields` is refused unparsed, because parsing it first (50,000 keys in
 * 600 KB) grows the heap by megabytes per line, which V8 gives back only much later. Outside
 * strings, every key has its own ":" and every comma separates two fields, so either count over
 * the bound proves the record is over it: no line within the bound is refused.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

/** Shorter lines cannot hold more than `maxFields` fields (each takes at least 4 characters: `"":0,`). */
const MIN_CHARS_PER_FIELD = 4;

/** The reason `text` holds more than `maxFields` fields, or undefined (also when it cannot tell cheaply). */
export function jsonTooManyFields(text: string, maxFields: number | undefined): string | undefined {
  if (maxFields === undefined || text.length <= MIN_CHARS_PER_FIELD * maxFields) return undefined;
  let colons = 0;
  let commas = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === COLON) colons++;
    else if (c === COMMA) commas++;
  }
  return colons > maxFields || commas > maxFields ? `record has more than ${maxFields} fields (limits.max_fields)` : undefined;
}
