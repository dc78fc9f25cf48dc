import { hasUnsafeDisplayChars, type JsonValue, type Props, UNSAFE_DISPLAY_MESSAGE } from '@plexus/protocol';

/**
 * The typed property bag of an entity kind. Every key an entity may carry is declared; values are
 * checked on every spawn and update, by clients and by playground logic alike.
 */
export type PropSpec =
  | { type: 'number'; min?: number; max?: number; integer?: boolean; default?: number; serverOnly?: boolean }
  | {
      type: 'string';
      maxLength: number;
      default?: string;
      serverOnly?: boolean;
      /** Tabs and line breaks allowed (other control characters never are). */
      multiline?: boolean;
    }
  | { type: 'boolean'; default?: boolean; serverOnly?: boolean }
  /** `{x, y, z}` with finite numbers, each within ±`maxAbs` (default 10 000). */
  | { type: 'vec3'; maxAbs?: number; default?: { x: number; y: number; z: number }; serverOnly?: boolean }
  | { type: 'enum'; values: readonly string[]; default?: string; serverOnly?: boolean }
  /** Any JSON value up to `maxBytes` of JSON text: for data only the server writes (avatar looks). */
  | { type: 'json'; maxBytes: number; serverOnly?: boolean };

export type PropsSchema = Readonly<Record<string, PropSpec>>;

/** Who is writing: clients may not write `serverOnly` keys. */
export type Writer = 'client' | 'server';

export type PropsVerdict = { ok: true; props: Props } | { ok: false; reason: string };

const ENUM_MAX_VALUES = 64;

/** Checks a schema itself (used when a playground type is loaded); returns a problem or null. */
export function schemaProblem(schema: PropsSchema): string | null {
  for (const [key, spec] of Object.entries(schema)) {
    switch (spec.type) {
      case 'number':
        if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max)
          return `${key}: min > max`;
        break;
      case 'string':
        if (!Number.isInteger(spec.maxLength) || spec.maxLength < 0) return `${key}: bad maxLength`;
        break;
      case 'enum':
        if (spec.values.length === 0 || spec.values.length > ENUM_MAX_VALUES)
          return `${key}: an enum has 1–${ENUM_MAX_VALUES} values`;
        break;
      case 'json':
        if (!Number.isInteger(spec.maxBytes) || spec.maxBytes < 0) return `${key}: bad maxBytes`;
        break;
      case 'boolean':
      case 'vec3':
        break;
      default:
        return `${key}: unknown type ${(spec as { type: string }).type}`;
    }
    if ('default' in spec && spec.default !== undefined) {
      const problem = valueProblem(spec, spec.default as JsonValue);
      if (problem) return `${key}: default ${problem}`;
    }
  }
  return null;
}

/** Why `value` does not fit `spec`, or null when it does. */
export function valueProblem(spec: PropSpec, value: JsonValue): string | null {
  switch (spec.type) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a finite number';
      if (spec.integer && !Number.isInteger(value)) return 'must be an integer';
      if (spec.min !== undefined && value < spec.min) return `must be ≥ ${spec.min}`;
      if (spec.max !== undefined && value > spec.max) return `must be ≤ ${spec.max}`;
      return null;
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (value.length > spec.maxLength) return `must be at most ${spec.maxLength} characters`;
      // String props are what other clients display (labels, names): docs/api.md, "Display text".
      return hasUnsafeDisplayChars(value, spec.multiline) ? UNSAFE_DISPLAY_MESSAGE : null;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be a boolean';
    case 'vec3': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be {x, y, z}';
      const keys = Object.keys(value);
      const limit = spec.maxAbs ?? 10_000;
      if (keys.length !== 3) return 'must be {x, y, z}';
      for (const axis of ['x', 'y', 'z']) {
        const n = value[axis];
        if (typeof n !== 'number' || !Number.isFinite(n) || Math.abs(n) > limit)
          return `${axis} must be a finite number within ±${limit}`;
      }
      return null;
    }
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value)
        ? null
        : `must be one of ${spec.values.join('|')}`;
    case 'json':
      return JSON.stringify(value).length > spec.maxBytes
        ? `must be at most ${spec.maxBytes} bytes of JSON`
        : null;
  }
}

/**
 * Validates a whole new entity's props and fills in defaults. Every key must be declared, of the
 * right type, and writable by `writer`.
 */
export function validateNewProps(schema: PropsSchema, props: Props, writer: Writer): PropsVerdict {
  const out: Props = {};
  for (const [key, spec] of Object.entries(schema)) {
    if ('default' in spec && spec.default !== undefined)
      out[key] = structuredClone(spec.default) as JsonValue;
  }
  const patch = checkPatch(schema, props, writer, false);
  if (typeof patch === 'string') return { ok: false, reason: patch };
  Object.assign(out, props);
  return { ok: true, props: out };
}

/**
 * Merges a partial update into `current`: listed keys replace theirs, a key set to null is deleted
 * (its default, if any, comes back). The result is a new object; `current` is not modified.
 */
export function mergeProps(schema: PropsSchema, current: Props, patch: Props, writer: Writer): PropsVerdict {
  const problem = checkPatch(schema, patch, writer, true);
  if (problem) return { ok: false, reason: problem };
  const out: Props = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      const spec = schema[key];
      if (spec && 'default' in spec && spec.default !== undefined)
        out[key] = structuredClone(spec.default) as JsonValue;
      else delete out[key];
    } else {
      out[key] = value;
    }
  }
  return { ok: true, props: out };
}

function checkPatch(schema: PropsSchema, patch: Props, writer: Writer, allowNull: boolean): string | null {
  for (const [key, value] of Object.entries(patch)) {
    const spec = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (!spec) return `unknown property "${key}"`;
    if (writer === 'client' && spec.serverOnly) return `"${key}" is set by the server only`;
    if (value === null) {
      if (allowNull) continue;
      return `"${key}" must not be null`;
    }
    const problem = valueProblem(spec, value);
    if (problem) return `"${key}" ${problem}`;
  }
  return null;
}
