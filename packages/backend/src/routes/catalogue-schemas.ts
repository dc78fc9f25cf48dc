import { z } from '@plexus/kit';

// Request schemas shared by the catalogue, matchmaking and party RPCs.

/** A catalogue id: a playground id without `#` (which marks an instance), short enough for `#1000`. */
export const catalogueIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,56}$/, 'must be 1-56 characters of A-Z, a-z, 0-9, _ . -')
  .refine((id) => !id.startsWith('public-'), 'the public- prefix belongs to auto-opened playgrounds');
export const playgroundTypeSchema = z
  .string()
  .regex(/^[a-z0-9-]{1,32}$/, 'must be 1-32 characters of a-z, 0-9 and -');
export const tagSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_.-]{0,31}$/,
    'must be 1-32 characters of a-z, 0-9, _ . - (a letter or digit first)',
  );
/** Up to 16 tags, duplicates dropped. */
export const tagsSchema = z
  .array(tagSchema)
  .max(16)
  .transform((tags) => [...new Set(tags)]);
/** '' for no region. */
export const regionSchema = z
  .string()
  .regex(/^[a-z0-9-]{0,32}$/, 'must be 0-32 characters of a-z, 0-9 and -');
export const visibilitySchema = z.enum(['public', 'private']);
/** Invite and party codes, as typed by people: trimmed, any letter case. */
export const codeSchema = z.string().trim().toUpperCase().min(1).max(64);
/** Page size and keyset cursor of list RPCs. */
export const pageFields = {
  limit: z.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(64).optional(),
};
