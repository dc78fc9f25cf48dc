import { z } from '@plexus/kit';
import { hasUnsafeDisplayChars, UNSAFE_DISPLAY_MESSAGE } from '@plexus/protocol';

/**
 * A display field (user names, company, title, playground names): trimmed, `min`–`max`
 * characters, and no control or bidi-override character — refused with the field named rather than
 * stripped, so what the user typed is what everyone sees (docs/api.md, "Display text").
 */
export const displayText = (max: number, min = 0) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((text) => !hasUnsafeDisplayChars(text), UNSAFE_DISPLAY_MESSAGE);
