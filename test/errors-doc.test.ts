import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CloseCodes, ErrorCodes } from '@plexus/protocol';

const doc = (name: string) => readFileSync(new URL(`../docs/${name}`, import.meta.url), 'utf8');

test('every error code is documented in docs/errors.md with its number and HTTP status', () => {
  const text = doc('errors.md');
  for (const [name, spec] of Object.entries(ErrorCodes)) {
    const row = text.split('\n').find((line) => line.includes(`\`${name}\``));
    assert.ok(row, `${name} missing from docs/errors.md`);
    assert.ok(row.includes(`| ${spec.code} |`), `${name}: code ${spec.code} not in its row`);
    assert.ok(row.includes(`| ${spec.status} |`), `${name}: status ${spec.status} not in its row`);
  }
});

test('every close code is documented in docs/protocol.md', () => {
  const text = doc('protocol.md');
  for (const [name, code] of Object.entries(CloseCodes)) {
    assert.ok(
      new RegExp(`\\| ${code} \\| \`${name}\``).test(text),
      `close code ${name} (${code}) missing from docs/protocol.md`,
    );
  }
});

test('error codes are unique', () => {
  const codes = Object.values(ErrorCodes).map((s) => s.code);
  assert.equal(new Set(codes).size, codes.length);
});
