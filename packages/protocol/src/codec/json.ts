import type { JsonValue, Props } from '../types.ts';
import { DecodeError } from './byte-reader.ts';

/** Parses JSON text from a frame; anything unparsable is a DecodeError (a malformed frame). */
export function parseJsonValue(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new DecodeError('invalid JSON');
  }
}

/** Parses JSON text that must hold an object (entity props, WELCOME). */
export function parseJsonObject(text: string): Props {
  const value = parseJsonValue(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DecodeError('expected a JSON object');
  }
  return value;
}
