import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { uncommonWords } from '../../../src/read/search-words.js';

// A catalogue where every name holds "article" and "pack" (as ANALYZE would sample it).
const sample = Array.from({ length: 100 }, (_, index) => `article ${1000 + index * 37} pack`);

test('given a word every sampled name holds, when a needle has it beside a rare one, then only the rare one is looked up', () => {
  assert.equal(uncommonWords('Article 12345', sample), ['12345']);
  assert.equal(uncommonWords('pack 12345 ARTICLE', sample), ['12345']);
});

test('given a needle of one word, then the whole needle is looked up', () => {
  assert.is(uncommonWords('12345', sample), null);
  assert.is(uncommonWords('article', sample), null);
});

test('given every word uncommon, then the whole needle is looked up (the words order and spacing narrow it further)', () => {
  assert.is(uncommonWords('green tea', sample), null);
});

test('given only common words or words too short for a trigram, then the whole needle is looked up', () => {
  assert.is(uncommonWords('article pack', sample), null);
  assert.is(uncommonWords('article 12', sample), null);
});

test('given no statistics yet, then the whole needle is looked up', () => {
  assert.is(uncommonWords('article 12345', []), null);
});

test('given words repeated and separated by punctuation, then each uncommon word is looked up once, as first written', () => {
  assert.equal(uncommonWords('Article-Gold, gold article', sample), ['Gold']);
});

test('given a word held by fewer than a tenth of the sample, then it is uncommon', () => {
  const mostlyPlain = [...Array.from({ length: 91 }, () => 'plain'), ...Array.from({ length: 9 }, () => 'plain rare')];
  assert.equal(uncommonWords('plain rare', mostlyPlain), ['rare']);
  const tenth = [...Array.from({ length: 90 }, () => 'plain'), ...Array.from({ length: 10 }, () => 'plain rare')];
  assert.is(uncommonWords('plain rare', tenth), null);
});

test.run();
