import * as assert from 'uvu/assert';
import type { TokenDenylist } from '../../src/shared/auth/denylist.js';
import { newId } from '../../src/shared/ids.js';

export const inAnHour = (): Date => new Date(Date.now() + 3_600_000);

/** A denylist with a mirror of the revocations (Redis-backed or PostgreSQL-only), as a test sees it. */
export type MirroredDenylist = TokenDenylist & { readonly mirrored: boolean };

/**
 * Twenty revocations made by `a`, each refused by `b` from the moment the revocation
 * answered (after waiting out the lease). Answers how many rounds `b` answered from memory.
 */
export async function revokeInTurns(a: MirroredDenylist, b: MirroredDenylist, leaseMs: number): Promise<number> {
  let fromMemory = 0;
  for (let round = 0; round < 20; round += 1) {
    const jti = newId();
    assert.is(await b.isRevoked(jti), false);
    const began = performance.now();
    await a.revoke(jti, inAnHour());
    assert.ok(performance.now() - began >= leaseMs, 'a revocation waits out the lease');
    const mirrored = b.mirrored;
    if (mirrored) fromMemory += 1;
    assert.is(await b.isRevoked(jti), true, `round ${round}: refused by the other process (from memory: ${mirrored})`);
    assert.is(await a.isRevoked(jti), true);
  }
  return fromMemory;
}
