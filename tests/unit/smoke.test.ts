import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { streamCategory } from '../../src/shared/event-store/port.js';

test('stream category is the part before the first dash', () => {
  assert.is(streamCategory('stockitem-a-b'), 'stockitem');
});

test.run();
