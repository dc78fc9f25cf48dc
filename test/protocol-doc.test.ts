import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CloseCodes, clientFrames, closeCodeFor, ErrorCodes, serverFrames } from '@plexus/protocol';

const text = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');
const hex = (op: number) => `0x${op.toString(16).padStart(2, '0')}`;

test('every opcode of the frame table has its row, under its name, in docs/protocol.md §3–4', () => {
  for (const codec of [...Object.values(clientFrames), ...Object.values(serverFrames)]) {
    assert.match(
      text,
      new RegExp(`\\| \`${hex(codec.op)}\` \\| ${codec.name} +\\|`),
      `${codec.name} ${hex(codec.op)}`,
    );
  }
});

test('docs/protocol.md lists no opcode the table does not have', () => {
  const ops = new Set([...Object.values(clientFrames), ...Object.values(serverFrames)].map((c) => hex(c.op)));
  for (const m of text.matchAll(/^\| `(0x[0-9a-f]{2})` \| ([A-Z_]+) /gm)) {
    assert.ok(ops.has(m[1] as string), `docs/protocol.md documents ${m[2]} ${m[1]}, which the table lacks`);
  }
});

test('every socket error code is named in docs/protocol.md, each fatal one in the row of its close code', () => {
  for (const name of Object.keys(ErrorCodes).filter((n) => n.startsWith('PROTOCOL_'))) {
    const short = name.slice('PROTOCOL_'.length);
    assert.ok(text.includes(`\`${name}\``) || text.includes(`\`${short}\``), `${name} missing`);
  }
  const rows = text.split('\n').filter((line) => /^\| \d{4} \| `/.test(line));
  for (const [name, code] of Object.entries(closeCodeFor)) {
    const row = rows.find((r) => r.startsWith(`| ${code} |`));
    assert.ok(row?.includes(`\`${name}\``), `${name} not in the row of close code ${code}`);
  }
});

test('every error or close code name docs/protocol.md mentions exists', () => {
  for (const m of text.matchAll(/`(PROTOCOL_[A-Z_]+)`/g)) {
    const name = m[1] as string;
    assert.ok(name in ErrorCodes || name.slice('PROTOCOL_'.length) in CloseCodes || name in CloseCodes, name);
  }
});
