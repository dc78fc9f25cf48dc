/**
 * Characters no display field (names, company, titles, playground names, labels, chat) may hold:
 * C0 and C1 controls (NUL, newlines, escapes…), DEL, and the bidirectional embeddings, overrides
 * and isolates U+202A–U+202E and U+2066–U+2069, which reorder what other users see around them
 * (docs/api.md, "Display text"). Entry points refuse them; display paths strip them.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const UNSAFE_DISPLAY_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE_DISPLAY_CHARS_ALL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Message of the refusal at every entry point. */
export const UNSAFE_DISPLAY_MESSAGE = 'must not contain control or bidirectional-override characters';

/** True when `text` holds a character no display field may hold. */
export function hasUnsafeDisplayChars(text: string): boolean {
  return UNSAFE_DISPLAY_CHARS.test(text);
}

/** `text` without the characters no display field may hold (for values stored before the rule). */
export function stripUnsafeDisplayChars(text: string): string {
  return text.replace(UNSAFE_DISPLAY_CHARS_ALL, '');
}
