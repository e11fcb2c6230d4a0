/**
 * Tokens whose signature has been verified, by their exact text, with the claims they carry.
 *
 * A client sends the same token on every request until it expires; verifying it again each
 * time (base64, JSON, HMAC, the claims' zod parse) was the largest single cost of a point
 * read. The same text always verifies the same way but for time: so a hit is answered only
 * while the token is within its `nbf`/`exp` window, checked as the verifier checks them, and
 * past `exp` the entry is dropped and the caller verifies again (and is told it expired).
 *
 * Only the signature check is cached. Revocation (the denylist) and the user's credentials
 * are still asked on every request: a revoked token is refused as before.
 *
 * Bounded: past `maxEntries` the entry inserted first goes (a token in use is inserted
 * again on its next miss), so a flood of distinct tokens costs memory of `maxEntries` only.
 */
export interface TimedClaims {
  /** Seconds since the epoch, as in the token. */
  exp: number;
  nbf?: number | undefined;
}

export class VerifiedTokens<C extends TimedClaims> {
  private readonly entries = new Map<string, C>();

  constructor(private readonly maxEntries = 10_000) {}

  /** The claims of a token verified before, if it is valid now; undefined otherwise (verify it). */
  get(token: string, now = Date.now()): C | undefined {
    const claims = this.entries.get(token);
    if (claims === undefined) return undefined;
    // fast-jwt's own checks with clockTolerance 0: valid while now <= exp and now >= nbf.
    if (now > claims.exp * 1000 || (claims.nbf !== undefined && now < claims.nbf * 1000)) {
      this.entries.delete(token);
      return undefined;
    }
    return claims;
  }

  /** Remembers a token the verifier has just accepted. */
  set(token: string, claims: C): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(token);
    this.entries.set(token, claims);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
