import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderLowStockMail, type LowStockLine } from '../../../src/projections/mailer/template.js';

const line = (overrides: Partial<LowStockLine> = {}): LowStockLine => ({
  skuCode: 'TEA-01',
  skuName: 'Green tea',
  quantity: 2,
  lowStockThreshold: 5,
  changedBy: 'sam',
  link: 'http://stock.example/api/inventory/stores/s/items/k',
  at: new Date('2026-01-01T10:00:00.000Z'),
  ...overrides,
});

test('one item: subject, text and HTML name the store, the SKU, the level, the actor and the link', async () => {
  const mail = await renderLowStockMail({ storeName: 'Main Street', lines: [line()] });
  assert.is(mail.subject, 'Low stock at Main Street: TEA-01 (2 left)');
  for (const part of [mail.text, mail.html]) {
    for (const expected of ['Main Street', 'TEA-01', 'Green tea', '2', '5', 'sam', 'http://stock.example/api/inventory/stores/s/items/k']) {
      assert.ok(part.includes(expected), `${expected} missing`);
    }
  }
  assert.match(mail.html, /^<!doctype html>/i);
  assert.not.match(mail.text, /</);
});

test('a digest: the subject counts the items', async () => {
  const mail = await renderLowStockMail({ storeName: 'Main Street', lines: [line(), line({ skuCode: 'TEA-02' }), line({ skuCode: 'TEA-03' })] });
  assert.is(mail.subject, 'Low stock at Main Street: 3 items');
  assert.ok(mail.text.includes('TEA-02') && mail.html.includes('TEA-03'));
});

test('names people typed are text, never markup, in the HTML; no line breaks in the subject', async () => {
  const mail = await renderLowStockMail({
    storeName: 'Bad <mj-include path="/etc/passwd" /> & "Co"\r\nBcc: x@example.com',
    lines: [line({ skuName: '<script>alert(1)</script>', changedBy: '<b>eve</b>' })],
  });
  assert.not.match(mail.html, /<script>/);
  assert.not.match(mail.html, /<b>eve/);
  assert.not.match(mail.html, /<mj-include/);
  assert.ok(mail.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(mail.html.includes('&lt;mj-include'));
  assert.not.match(mail.subject, /[\r\n]/);
});

test.run();
