import { z } from 'zod/v4';

/**
 * The username rule, the one place it is written: 3 to 64 characters, each an ASCII letter,
 * digit, dot, dash or underscore; two usernames are the same login when they are equal
 * after ASCII lower-casing. Registration accepts only such names, and login refuses any
 * other string before looking anything up, so no Unicode folding (the Kelvin sign `K`
 * lower-cases to `k`) can lead another string to an account.
 */
const pattern = /^[A-Za-z0-9._-]{3,64}$/;

export const Username = z.string().regex(pattern, 'must be 3 to 64 characters: ASCII letters, digits, dot, dash and underscore');

export const isUsername = (text: string): boolean => pattern.test(text);
