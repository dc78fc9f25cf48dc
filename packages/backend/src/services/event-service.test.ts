import assert from 'node:assert/strict';
import { AppError, createLogger, createMetrics } from '@plexus/kit';
import type { EventSender, PlexusEventEnvelope } from '@plexus/protocol';
import { forEachEngine } from '../storage/engines.test-support.ts';
import { touchPresence } from '../stores/presence-store.ts';
import { createContinuityMetrics } from './continuity-metrics.ts';
import { EventService, MAX_PENDING_PER_SENDER } from './event-service.ts';

function service(
  db: Parameters<typeof touchPresence>[0] & ConstructorParameters<typeof EventService>[0]['db'],
) {
  const sent: PlexusEventEnvelope[] = [];
  const events = new EventService({
    db,
    sink: { broadcast: (event) => sent.push(event) },
    clock: () => 1_000,
    inboxTtlMs: 60_000,
    presenceTtlMs: 10_000,
    metrics: createContinuityMetrics(createMetrics('backend')),
    logger: createLogger({ component: 'backend', level: 'silent' }),
  });
  return { events, sent };
}

const server: EventSender = { kind: 'server', serverId: 'ds-a' };

forEachEngine('events of one sender reach the balancers in the order they were published', async (db) => {
  const { events, sent } = service(db);
  await touchPresence(db, 'ada', 'pg-1', 'ds-a', 1_000);
  // A user event needs a database transaction; the playground events that follow must not overtake it.
  const calls = Array.from({ length: 12 }, (_, i) =>
    events.publish(server, {
      target: i % 3 === 0 ? { userId: 'ada' } : { playgroundId: 'pg-1' },
      type: 'seq',
      payload: i,
    }),
  );
  const results = await Promise.all(calls);
  assert.deepEqual(
    results.map((r) => r.delivery),
    Array(12).fill('live'),
  );
  assert.deepEqual(
    sent.map((e) => e.payload),
    Array.from({ length: 12 }, (_, i) => i),
  );
  assert.deepEqual(
    sent.map((e) => e.id),
    results.map((r) => r.id),
  );
});

forEachEngine('a sender with too many publishes in flight is refused, others are not', async (db) => {
  const { events } = service(db);
  const input = { target: { all: true } as const, type: 't', payload: null };
  const calls = Array.from({ length: MAX_PENDING_PER_SENDER + 1 }, () => events.publish(server, input));
  const other = events.publish({ kind: 'operator' }, input);
  const settled = await Promise.allSettled(calls);
  const refused = settled.filter((s) => s.status === 'rejected');
  assert.equal(refused.length, 1);
  assert.ok(refused[0]?.status === 'rejected' && refused[0].reason instanceof AppError);
  assert.equal((refused[0].reason as AppError).errorName, 'COMMON_RATE_LIMITED');
  assert.equal((await other).delivery, 'live');
  // The queue drained: the sender is accepted again.
  assert.equal((await events.publish(server, input)).delivery, 'live');
});
