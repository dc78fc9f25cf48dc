import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kindProblem } from './entity-kinds.ts';
import type { PlaygroundType } from './playground-type.ts';
import openWorld from './types/open-world.ts';

/** A rule of `playgroundTypeMap`: an exact playground id, or a prefix ending with `*`. */
export interface TypeMapRule {
  pattern: string;
  type: string;
}

export const DEFAULT_PLAYGROUND_TYPE = 'open-world';

const TYPE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const HOOKS = [
  'state',
  'onCreate',
  'onJoin',
  'onLeave',
  'onMessage',
  'onRequest',
  'onTick',
  'onDispose',
  'saveState',
  'loadState',
] as const;

/**
 * The playground types this server knows (built-in `open-world` plus the configured modules) and
 * which one each playground id gets: the first matching rule of the map, else the default type.
 */
export class PlaygroundTypes {
  private readonly types: Map<string, PlaygroundType>;
  private readonly rules: readonly TypeMapRule[];
  private readonly defaultType: PlaygroundType;

  constructor(
    types: readonly PlaygroundType[] = [],
    rules: readonly TypeMapRule[] = [],
    defaultName = DEFAULT_PLAYGROUND_TYPE,
  ) {
    this.types = new Map([[openWorld.name, openWorld as PlaygroundType]]);
    for (const t of types) {
      const checked = checkPlaygroundType(t, t?.name ?? '?');
      this.types.set(checked.name, checked);
    }
    for (const rule of rules) {
      if (!this.types.has(rule.type))
        throw new Error(`playgroundTypeMap: unknown playground type "${rule.type}"`);
    }
    const fallback = this.types.get(defaultName);
    if (!fallback) throw new Error(`defaultPlaygroundType: unknown playground type "${defaultName}"`);
    this.rules = rules;
    this.defaultType = fallback;
  }

  names(): string[] {
    return [...this.types.keys()];
  }

  get(name: string): PlaygroundType | undefined {
    return this.types.get(name);
  }

  /** The type of a playground id. */
  resolve(playgroundId: string): PlaygroundType {
    for (const { pattern, type } of this.rules) {
      const match = pattern.endsWith('*')
        ? playgroundId.startsWith(pattern.slice(0, -1))
        : playgroundId === pattern;
      if (match) return this.types.get(type) ?? this.defaultType;
    }
    return this.defaultType;
  }
}

/**
 * Imports each module (a path, relative to the working directory, or a package name) and takes its
 * default export as a playground type. Throws naming the module on any problem.
 */
export async function loadPlaygroundTypeModules(
  specifiers: readonly string[],
  cwd = process.cwd(),
): Promise<PlaygroundType[]> {
  const types: PlaygroundType[] = [];
  for (const spec of specifiers) {
    const url =
      spec.startsWith('.') || isAbsolute(spec)
        ? pathToFileURL(isAbsolute(spec) ? spec : resolve(cwd, spec)).href
        : spec;
    let mod: { default?: unknown };
    try {
      mod = (await import(url)) as { default?: unknown };
    } catch (err) {
      throw new Error(`playgroundTypes: cannot load ${spec}: ${(err as Error).message}`);
    }
    types.push(checkPlaygroundType(mod.default, spec));
  }
  return types;
}

/** Checks the shape of a playground type (name, hooks, kinds); throws naming `source`. */
export function checkPlaygroundType(value: unknown, source: string): PlaygroundType {
  const fail = (why: string): never => {
    throw new Error(`playground type ${source}: ${why}`);
  };
  if (typeof value !== 'object' || value === null)
    return fail('the module must default-export a PlaygroundType');
  const t = value as Record<string, unknown>;
  if (typeof t.name !== 'string' || !TYPE_NAME.test(t.name))
    return fail('name must be 1–64 of A-Z a-z 0-9 _ . -');
  for (const hook of HOOKS) {
    if (t[hook] !== undefined && typeof t[hook] !== 'function') fail(`${hook} must be a function`);
  }
  if (t.kinds !== undefined) {
    if (typeof t.kinds !== 'object' || t.kinds === null) fail('kinds must be an object');
    for (const [name, kind] of Object.entries(t.kinds as Record<string, unknown>)) {
      if (typeof kind !== 'object' || kind === null) fail(`kind ${name} must be an object`);
      const problem = kindProblem(name, kind as never);
      if (problem) fail(problem);
    }
  }
  if (t.interest !== undefined) {
    const interest = t.interest as Record<string, unknown> | null;
    if (typeof interest !== 'object' || interest === null) fail('interest must be an object');
    for (const key of ['radiusM', 'hysteresisM', 'fullRateM'] as const) {
      const v = (interest as Record<string, unknown>)[key];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100_000)) {
        fail(`interest.${key} must be a number of metres from 0 to 100000`);
      }
    }
  }
  return value as PlaygroundType;
}

/**
 * Parses `playgroundTypeMap` from the environment form `pattern=type,pattern=type` (or a config
 * file's object `{pattern: type}`, kept in order).
 */
export function parseTypeMap(value: string | Record<string, string>): TypeMapRule[] {
  const pairs =
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .map((entry) => {
            const eq = entry.indexOf('=');
            if (eq <= 0) throw new Error(`"${entry}" is not pattern=type`);
            return [entry.slice(0, eq).trim(), entry.slice(eq + 1).trim()] as const;
          })
      : Object.entries(value);
  return pairs.map(([pattern, type]) => {
    if (!pattern || !TYPE_NAME.test(type)) throw new Error(`bad rule ${pattern}=${type}`);
    return { pattern, type };
  });
}
