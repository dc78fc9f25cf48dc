import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AvatarLoadError, customAvatarUrl, readLimited } from './avatar-source.ts';

const policy = { origins: ['https://models.example.com'], maxBytes: 1024 };
const props = (avatarUrl: unknown) => ({ displayName: 'Ada', avatar3D: { assetId: 'a', avatarUrl } });

test('a custom avatar is used only from an allowed origin', () => {
  assert.equal(
    customAvatarUrl(props('https://models.example.com/u/ada.glb'), policy),
    'https://models.example.com/u/ada.glb',
  );
  assert.equal(customAvatarUrl(props('https://evil.example.com/ada.glb'), policy), undefined);
  assert.equal(
    customAvatarUrl(props('http://models.example.com/ada.glb'), policy),
    undefined,
    'scheme is part of the origin',
  );
  assert.equal(customAvatarUrl(props('https://models.example.com.evil.net/a.glb'), policy), undefined);
  assert.equal(customAvatarUrl(props('https://user:pw@models.example.com/a.glb'), policy), undefined);
  assert.equal(customAvatarUrl(props('not a url'), policy), undefined);
  assert.equal(customAvatarUrl(props(42), policy), undefined);
  assert.equal(customAvatarUrl({ displayName: 'Anonymous 1a2b', anonymous: true }, policy), undefined);
});

test('with an empty allow-list every avatar is the default one', () => {
  const open = { origins: [], maxBytes: 1024 };
  assert.equal(customAvatarUrl(props('https://models.example.com/u/ada.glb'), open), undefined);
});

test('a body within the limit is read whole; beyond it, by header or by stream, it is refused', async () => {
  const bytes = new Uint8Array(1000).fill(7);
  const read = await readLimited(new Response(bytes), 1024);
  assert.equal(read.byteLength, 1000);

  await assert.rejects(
    readLimited(new Response(new Uint8Array(10), { headers: { 'content-length': '5000' } }), 1024),
    AvatarLoadError,
  );
  // No Content-Length: a stream that keeps going is cut at the limit.
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(256));
    },
  });
  await assert.rejects(readLimited(new Response(endless), 1024), /larger than 1024 bytes/);
  assert.ok(pulled < 10, `stopped reading after the limit (${pulled} chunks)`);
  await assert.rejects(readLimited(new Response('nope', { status: 404 }), 1024), /HTTP 404/);
});
