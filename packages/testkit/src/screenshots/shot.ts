import type { Browser } from 'playwright-core';
import type { Stack } from '../stack.ts';

/** What a screenshot is taken with: a running stack serving the built pages, and a browser. */
export interface ShotContext {
  stack: Stack;
  browser: Browser;
  /** Absolute path of the PNG to write. */
  file: string;
  /** The stack's operator key (the console signs in with it). */
  operatorKey: string;
}

/**
 * One README screenshot. Add one by writing a module that exports a Shot and listing it in
 * screenshots/main.ts; `npm run screenshots -- <name>` takes only the named ones.
 */
export interface Shot {
  name: string;
  /** File name under docs/images/. */
  file: string;
  /** Sets the scene up, then writes `context.file`. */
  take(context: ShotContext): Promise<void>;
}
