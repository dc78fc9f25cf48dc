/**
 * Characters no display field (names, company, titles, playground names, labels, chat) may hold:
 * C0 and C1 controls (NUL, newlines, escapes…), DEL, and the bidirectional embeddings, overrides
 * and isolates U+202A–U+202E and U+2066–U+2069, which reorder what other users see around them
 * (docs/api.md, "Display text"). Entry points refuse them; display paths strip them.
 */
const CONTROLS = '\\u0000-\\u001f\\u007f-\\u009f';
/** The same without tab, line feed and carriage return (U+0009, U+000A, U+000D). */
const CONTROLS_BUT_LINE_BREAKS = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f';
const BIDI = '\\u202a-\\u202e\\u2066-\\u2069';
const UNSAFE_DISPLAY_CHARS = new RegExp(`[${CONTROLS}${BIDI}]`);
const UNSAFE_DISPLAY_CHARS_ALL = new RegExp(`[${CONTROLS}${BIDI}]`, 'g');
/** Multi-line text (a whiteboard) may also hold tabs and line breaks. */
const UNSAFE_MULTILINE_CHARS = new RegExp(`[${CONTROLS_BUT_LINE_BREAKS}${BIDI}]`);

/** Message of the refusal at every entry point. */
export const UNSAFE_DISPLAY_MESSAGE = 'must not contain control or bidirectional-override characters';

/**
 * True when `text` holds a character no display field may hold; `multiline` text may also hold
 * tabs and line breaks (\t, \n, \r).
 */
export function hasUnsafeDisplayChars(text: string, multiline = false): boolean {
  return (multiline ? UNSAFE_MULTILINE_CHARS : UNSAFE_DISPLAY_CHARS).test(text);
}

/** `text` without the characters no display field may hold (for values stored before the rule). */
export function stripUnsafeDisplayChars(text: string): string {
  return text.replace(UNSAFE_DISPLAY_CHARS_ALL, '');
}
