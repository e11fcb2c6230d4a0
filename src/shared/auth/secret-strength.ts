/**
 * The production rule for secrets (JWT_SECRET, ADMIN_PASSWORD, the password in DATABASE_URL):
 * a value that reads like a placeholder is refused whatever its length, and a value whose
 * characters carry too little information is refused whatever its letters. A random value
 * from `openssl rand -base64 48` passes both by a wide margin; an example left in a
 * manifest, `aaaa…`, `abcabc…` or `12345678…` does not.
 */

/**
 * Words that mark an example or a placeholder, compared after dropping case and every
 * character that is not a letter or a digit (`CHANGE_ME`, `change-me`, `<changeme>` alike).
 * Each is 6+ characters, so a random value contains one by chance about once in 10^8.
 */
const placeholderWords = ['changeme', 'replaceme', 'placeholder', 'example', 'secret', 'password', 'insecure', 'dummy', 'sample', 'default', 'notset', 'fillme'];

export function looksLikePlaceholder(value: string): boolean {
  const folded = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  return folded === '' || placeholderWords.some((word) => folded.includes(word));
}

/**
 * An estimate of the information in a value: its length times the Shannon entropy of its own
 * character distribution. It over-counts ordered runs (`abcdef…` has every letter once), so
 * values whose steps from one character to the next mostly repeat are counted as nothing.
 */
export function estimatedBits(value: string): number {
  const chars = [...value];
  if (chars.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of chars) counts.set(char, (counts.get(char) ?? 0) + 1);
  let perChar = 0;
  for (const count of counts.values()) {
    const p = count / chars.length;
    perChar -= p * Math.log2(p);
  }
  return predictableSteps(chars) ? 0 : perChar * chars.length;
}

/** Half or more of the steps between neighbours are the same step (`aaaa`, `abcd`, `1357`, `zyxw`). */
function predictableSteps(chars: readonly string[]): boolean {
  if (chars.length < 3) return false;
  const steps = new Map<number, number>();
  for (let i = 1; i < chars.length; i += 1) {
    const step = (chars[i]?.codePointAt(0) ?? 0) - (chars[i - 1]?.codePointAt(0) ?? 0);
    steps.set(step, (steps.get(step) ?? 0) + 1);
  }
  return Math.max(...steps.values()) * 2 >= chars.length - 1;
}

/** Why this secret is refused, or null. `minBits` is what the estimate must reach. */
export function weakSecretReason(value: string, { minLength, minBits }: { minLength: number; minBits: number }): string | null {
  if (value.length < minLength) return `must have at least ${minLength} characters`;
  if (looksLikePlaceholder(value)) return 'looks like a placeholder or an example value; set a random one';
  if (estimatedBits(value) < minBits) return 'is too predictable (repeated or ordered characters); set a random one';
  return null;
}

/**
 * JWT_SECRET signs every token (HS256): 32+ characters. The bar of 80 estimated bits sits
 * below what the shortest random value we suggest ever scores (`openssl rand -hex 16`: 32 hex
 * characters, ~115, under 95 about once in 5,000) and far above a repeated or ordered one.
 */
export const JWT_SECRET_RULE = { minLength: 32, minBits: 80 } as const;

/** The first manager's password: a person may choose it, so the bar is a strong passphrase's. */
export const ADMIN_PASSWORD_RULE = { minLength: 12, minBits: 40 } as const;
