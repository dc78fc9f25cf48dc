import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const DOC = new URL('../../../docs/benchmarks.md', import.meta.url);

const TITLE = `# Benchmarks

Figures from the benchmark scripts in packages/bench, each of which regenerates only its own marked
section of this file. These machines are noisy shared 2-core boxes: CI never gates on them.
`;

/**
 * Replaces the section `<!-- bench:<name> -->…<!-- /bench:<name> -->` of docs/benchmarks.md with
 * `body` (appending it when the markers are missing) and keeps the rest of the file.
 */
export function writeDocSection(name: string, body: string): void {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : TITLE;
  const section = `${open}\n${body.trim()}\n${close}`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  const next =
    start >= 0 && end > start
      ? doc.slice(0, start) + section + doc.slice(end + close.length)
      : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(DOC, next);
}
