import { z } from '@plexus/kit';
import { PLAYGROUND_ID_PATTERN } from '@plexus/protocol';

// Request schemas shared by the cluster RPCs (protocol cluster.ts): ids, vectors, JSON objects.

/** As the balancer registers servers (control channel). */
export const serverIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ . -');
export const userIdSchema = z.string().min(1).max(128);
export const playgroundIdSchema = z
  .string()
  .regex(PLAYGROUND_ID_PATTERN, 'must be 1-64 characters of A-Z, a-z, 0-9, _ . # -');
export const vec3Schema = z.strictObject({ x: z.number(), y: z.number(), z: z.number() });
export const quatSchema = z.strictObject({ x: z.number(), y: z.number(), z: z.number(), w: z.number() });
/** A JSON object (the body parser guarantees JSON values; sizes are checked by the services). */
export const jsonObjectSchema = z.record(z.string(), z.unknown());
/** Entity properties (protocol Props). */
export const propsSchema = z.record(z.string(), z.json());
