import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DOCS_PATH, routesOf } from '@plexus/kit';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { inProcessBackend, inProcessBalancer } from './in-process.ts';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
}

/** The document an app serves, after checking it is valid OpenAPI 3.1 and lists every route. */
async function documentOf(app: FastifyInstance): Promise<OpenApiDocument> {
  const res = await app.inject({ method: 'GET', url: `${DOCS_PATH}/json` });
  assert.equal(res.statusCode, 200);
  const doc = res.json() as OpenApiDocument;
  assert.equal(doc.openapi, '3.1.0');
  const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
  assert.equal(result.valid, true, String(JSON.stringify(result.errors)).slice(0, 2000));

  const routes = routesOf(app).filter((r) => !r.hidden && r.method !== 'HEAD');
  assert.ok(routes.length > 5, 'the routes were recorded');
  const missing = routes
    .map((r) => ({ method: r.method.toLowerCase(), path: r.url.replace(/:(\w+)/g, '{$1}') }))
    .filter((r) => doc.paths[r.path]?.[r.method] === undefined)
    .map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(missing, [], 'every route is in the document');

  const page = await app.inject({ method: 'GET', url: `${DOCS_PATH}/` });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /text\/html/);
  return doc;
}

const bodyOf = (doc: OpenApiDocument, path: string) =>
  doc.paths[path]?.post?.requestBody?.content['application/json']?.schema as
    | { properties?: Record<string, unknown>; required?: string[] }
    | undefined;

describe('OpenAPI documents at /docs', () => {
  let dataDir: string;
  const apps: FastifyInstance[] = [];
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'plexus-openapi-'));
  });
  after(async () => {
    for (const app of apps) await app.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the backend serves a valid OpenAPI 3.1 document with every route and its body schema', async () => {
    const { app } = await inProcessBackend(dataDir);
    apps.push(app);
    const doc = await documentOf(app);
    const guest = bodyOf(doc, '/api/v0/rpc/auth.guest');
    assert.deepEqual(guest?.required, ['firstName']);
    assert.ok(guest?.properties?.lastName, 'optional fields are documented');
    assert.ok(bodyOf(doc, '/api/v0/operatorRpc/events.publish')?.properties?.target);
    // Documentation only: bad input still gets the zod-made envelope, not a fastify validation error.
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v0/rpc/auth.guest',
      payload: { firstName: 7 },
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /^Invalid request: firstName/);
  });

  test('the balancer serves a valid OpenAPI 3.1 document with every route and its body schema', async () => {
    const balancer = await inProcessBalancer();
    apps.push(balancer.app);
    const doc = await documentOf(balancer.app);
    assert.deepEqual(bodyOf(doc, '/lb/api/v0/getEndpointPlaygroundId')?.required, ['playgroundId']);
    assert.ok(doc.paths['/lb/api/v0/admin/stream']?.get, 'the console stream is listed');
  });
});
