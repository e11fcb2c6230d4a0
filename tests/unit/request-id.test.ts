import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { newRequestId } from '../../src/shared/ids.js';

test('a request id is a UUID v7, distinct from the others, ordered by its millisecond', async () => {
  const ids = Array.from({ length: 5_000 }, () => newRequestId());
  for (const id of ids) assert.ok(z.uuid({ version: 'v7' }).safeParse(id).success, id);
  assert.is(new Set(ids).size, ids.length);
  const before = newRequestId();
  await new Promise((resolve) => setTimeout(resolve, 3));
  assert.ok(before < newRequestId(), 'a later millisecond sorts after');
  assert.is(Number.parseInt(before.replace(/-/g, '').slice(0, 12), 16) <= Date.now(), true);
});

test.run();
