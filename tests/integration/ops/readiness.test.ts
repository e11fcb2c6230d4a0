import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readinessChecks } from '../../../src/ops/readiness.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { newId } from '../../../src/shared/ids.js';
import { ADMIN, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { kafkaBrokers, testBus } from '../../support/kafka.js';

/** /readyz answers for the roles of its process; /healthz only says the process lives. */
const test = suite('Ops: /readyz tells the truth per role');

const readyz = async (harness: Harness) => {
  const response = await harness.app.inject({ method: 'GET', url: '/readyz' });
  return { status: response.statusCode, body: response.json<{ status: string; checks: { name: string; ok: boolean; reason?: string }[] }>() };
};

test('a projector whose Kafka is unreachable is not ready, and still alive', async () => {
  const harness = await startHarness('ready_nokafka', { KAFKA_BROKERS: '127.0.0.1:1', ROLES: 'projector' }, {});
  try {
    const { status, body } = await readyz(harness);
    assert.is(status, 503, JSON.stringify(body));
    const kafka = body.checks.find((check) => check.name === 'kafka');
    assert.ok(kafka && !kafka.ok && /Kafka is not reachable/.test(kafka.reason ?? ''), JSON.stringify(body.checks));
    assert.is((await harness.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness only');
  } finally {
    await harness.close();
  }
});

test('a projector that reaches Kafka is ready', async () => {
  const harness = await startHarness('ready_kafka', { KAFKA_BROKERS: kafkaBrokers().join(','), ROLES: 'projector,forwarder' }, {});
  try {
    const { status, body } = await readyz(harness);
    assert.is(status, 200, JSON.stringify(body));
    assert.ok(body.checks.find((check) => check.name === 'kafka')?.ok);
  } finally {
    await harness.close();
  }
});

test('a read API whose read model does not move is not ready; once projected, it is', async () => {
  const harness = await startHarness('ready_stuck', { ROLES: 'read-api,write-api' }, {});
  try {
    const manager = await login(harness, ADMIN.username, ADMIN.password);
    await seedStore(harness, manager, 3);
    await ensureReadModelSchema(harness.db.url);
    // No projector runs: the events wait. With a bound of 0 ms they are already too old.
    const checks = await readinessChecks({ pool: harness.db.pool, forwarder: null, roles: ['read-api'], readModelStuckMs: 0 });
    const readModel = checks.find((check) => check.name === 'read-model');
    assert.ok(readModel && !readModel.ok && /stuck at position 0/.test(readModel.reason ?? ''), JSON.stringify(checks));
    // Within the default bound (30 s) the same process answers ready.
    assert.is((await readyz(harness)).status, 200);
  } finally {
    await harness.close();
  }
  const projected = await startHarness('ready_moving', { ROLES: 'read-api,write-api,projector,forwarder' }, { projections: true });
  try {
    const manager = await login(projected, ADMIN.username, ADMIN.password);
    const { itemUrl } = await seedStore(projected, manager, 3);
    const head = await projected.eventStore.headPosition();
    const caughtUp = await manager.get(itemUrl, { 'x-min-position': head.toString() });
    assert.is(caughtUp.statusCode, 200, caughtUp.body);
    const checks = await readinessChecks({ pool: projected.db.pool, forwarder: null, roles: ['read-api'], readModelStuckMs: 0 });
    assert.ok(checks.find((check) => check.name === 'read-model')?.ok, JSON.stringify(checks));
  } finally {
    await projected.close();
  }
});

test('a consumer whose batch keeps failing is reported stopped, with the cause', async () => {
  const bus = testBus('ready_consumer', 1);
  try {
    await bus.ensureTopic();
    const subscription = await bus.subscribe({
      group: `stockroom-test-ready-${newId()}`,
      onBatch: async (batch) => {
        if (batch.events.length > 0) throw new Error('cannot apply event (played by the test)');
      },
    });
    const at = new Date().toISOString();
    const event: RecordedEvent = { id: newId(), streamId: `store-${newId()}`, revision: 0, position: 1n, type: 'StoreOpened', data: {}, metadata: { actor: null, correlationId: 'c', causationId: null, at, schemaVersion: 1 }, recordedAt: new Date() };
    await bus.publish([event], 1n);
    let stopped: string | null = null;
    const deadline = Date.now() + 40_000;
    while (!stopped && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      stopped = bus.health().find((consumer) => consumer.stopped)?.stopped ?? null;
    }
    assert.match(stopped ?? '', /has failed for \d+ s: cannot apply event/);
    await subscription.stop();
    assert.is(bus.health().length, 0, 'a stopped subscription is forgotten');
  } finally {
    await bus.close();
  }
});

test.run();
