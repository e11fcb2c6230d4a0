import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { murmur2, partitionOf } from '../../../src/shared/event-bus/partition.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: string) => number;

test('partitionOf agrees with the partitioner kafkajs publishes with', () => {
  const keys = ['', 'a', 'ab', 'abc', 'abcd', 'stockitem-é_ü', ...Array.from({ length: 500 }, () => `stockitem-${randomUUID()}_${randomUUID()}`)];
  for (const key of keys) {
    assert.is(murmur2(Buffer.from(key)), kafkajsMurmur2(key), key);
    for (const partitions of [1, 3, 6, 12]) assert.is(partitionOf(key, partitions), (kafkajsMurmur2(key) & 0x7fffffff) % partitions, key);
  }
});

test.run();
