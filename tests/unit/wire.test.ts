import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromWire, toWire } from '../../src/shared/event-bus/message.js';
import type { RecordedEvent } from '../../src/shared/event-store/port.js';
import { parseEvent } from '../../src/shared/events/index.js';

const recorded = (type: string, data: unknown): RecordedEvent => ({
  id: randomUUID(),
  streamId: `user-${randomUUID()}`,
  type,
  data,
  metadata: { actor: null, correlationId: 'c', causationId: null, at: new Date().toISOString(), schemaVersion: 1 },
  revision: 3,
  position: 9_007_199_254_740_993n,
  recordedAt: new Date(),
});

test('on the wire: bigints as strings, secrets blanked, the rest intact and still a valid event', () => {
  const userId = randomUUID();
  const event = recorded('UserRegistered', { userId, username: 'sam', passwordHash: 'scrypt$secret', role: 'staff', displayName: null, email: null, storeIds: [] });
  const text = toWire(event);
  assert.not.match(text, /scrypt\$secret/);
  assert.match(text, /"position":"9007199254740993"/);
  const back = fromWire(text);
  assert.is(back.position, 9_007_199_254_740_993n);
  assert.equal((back.data as { username: string }).username, 'sam');
  assert.is(parseEvent(back.type, back.data, 1).type, 'UserRegistered');
  const changed = fromWire(toWire(recorded('UserPasswordChanged', { passwordHash: 'scrypt$new' })));
  assert.equal(changed.data, { passwordHash: '[redacted]' });
  const sold = recorded('StockAdjusted', { delta: -2, reason: 'sold', note: null, quantityAfter: 3 });
  assert.equal(fromWire(toWire(sold)).data, sold.data);
});

test.run();
