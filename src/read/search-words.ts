/**
 * Which words of a several-word `q` the trigram index should look up.
 *
 * GIN answers `like '%article 12345%'` by intersecting the posting lists of every trigram of
 * the pattern, and for each candidate of the rarest it steps through the others: a word that
 * nearly every name holds ("article", "pack", "500 ml") makes it read those lists whole
 * (24 ms at 1,000,000 SKUs against 2 ms for the number alone, docs/benchmarks.md). So the
 * index is asked for the needle's uncommon words only and the whole needle is checked on the
 * rows it yields: the same rows, fewer pages.
 *
 * "Common" is read from the sample ANALYZE keeps of the indexed expression (the histogram and
 * most common values of `lower(column)` in pg_stats), the same sample the planner estimates a
 * LIKE from: a word found in at least `commonShare` of the sampled values.
 */

/** A word held by at least this share of the sampled values is left to the recheck. */
const commonShare = 0.1;

/** pg_trgm's words: runs of letters and digits; shorter than 3 they yield no whole trigram. */
const wordsOf = (needle: string): string[] => needle.split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0);

/**
 * The words of `needle` (as written: the caller lower-cases them in SQL, as it does the
 * needle) the index should look up, or null when the whole needle should be (one word, no
 * sample, or no uncommon word long enough to yield a trigram). Each is a substring of the
 * needle, so a row holding the needle holds each of them: the lookup never loses a row.
 * `sample`: lower-cased values of the indexed expression.
 */
export function uncommonWords(needle: string, sample: readonly string[]): string[] | null {
  const words = wordsOf(needle);
  if (words.length < 2 || sample.length === 0) return null;
  const common = (word: string) => {
    const lower = word.toLowerCase();
    return sample.filter((value) => value.includes(lower)).length >= commonShare * sample.length;
  };
  const distinct = words.filter((word, index) => words.findIndex((other) => other.toLowerCase() === word.toLowerCase()) === index);
  const uncommon = distinct.filter((word) => word.length >= 3 && !common(word));
  // None uncommon: nothing narrower to look up. All of them: the whole needle is the narrower
  // lookup (every word's lists intersected, the words' order and spacing too).
  if (uncommon.length === 0 || uncommon.length === distinct.length) return null;
  return uncommon;
}
