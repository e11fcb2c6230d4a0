import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod/v4';
import { Unauthorized } from '../errors.js';
import { newId } from '../ids.js';
import type { TokenDenylist } from './denylist.js';
import type { CredentialsSource, Principal, UserCredentials } from './principal.js';
import { VerifiedTokens } from './verified-tokens.js';

const tokenClaims = z.object({
  sub: z.uuid(),
  jti: z.uuid(),
  /** credentialsVersion of the user when the token was issued. */
  cv: z.int().nonnegative(),
  exp: z.number(),
  nbf: z.number().optional(),
});
type TokenClaims = z.infer<typeof tokenClaims>;

/**
 * The token of `Authorization: Bearer <token>`, exactly as @fastify/jwt takes it (the scheme
 * in any case, one space, no other space); null for any other shape, which jwtVerify refuses.
 */
export const bearerToken = (header: string | undefined): string | null =>
  header !== undefined && header.length > 7 && header.charCodeAt(6) === 32 && /^bearer$/i.test(header.slice(0, 6)) && header.indexOf(' ', 7) === -1
    ? header.slice(7)
    : null;

export interface AuthOptions {
  secret: string;
  tokenTtlSeconds: number;
  denylist: TokenDenylist;
  credentials: CredentialsSource;
  /** Verified tokens kept (verified-tokens.ts); 0 verifies every request. Default 10,000. */
  verifiedTokens?: number;
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Refuses the request unless it carries a live token of an active user (sets request.principal). */
    authenticate(request: FastifyRequest): Promise<void>;
    /**
     * The same as an onRequest hook of the callback kind: a token in use (verified before,
     * its revocation and its user's credentials answered from memory) is admitted without a
     * promise, and so without the turn of the microtask queue an async hook costs each request.
     */
    authenticateHook: onRequestHookHandler;
    /** The same checks for a token that did not come in a header (a websocket's first frame, a recheck). */
    verifyToken(token: string): Promise<Principal>;
    issueToken(user: UserCredentials): Promise<IssuedToken>;
    revokeToken(principal: Principal): Promise<void>;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const revoked = () => new Unauthorized('The token was revoked; log in again.');

export const authPlugin = fp<AuthOptions>(
  async (app: FastifyInstance, options) => {
    await app.register(fastifyJwt, { secret: options.secret });
    app.decorateRequest('principal', null);

    const verified = new VerifiedTokens<TokenClaims>(options.verifiedTokens ?? 10_000);
    /** The token's claims: from the cache of verified tokens, or verified now (and kept). */
    const claimsOf = (token: string): TokenClaims => {
      const known = verified.get(token);
      if (known) return known;
      const claims = tokenClaims.parse(app.jwt.verify(token));
      verified.set(token, claims);
      return claims;
    };

    /**
     * The last principal made of each verified token's claims, with the credentials it was
     * made of: the same claims and the same credentials object (unchanged since: credentials.ts
     * answers the object it kept) make the same principal, not rebuilt per request.
     */
    const principals = new WeakMap<TokenClaims, { user: UserCredentials; principal: Principal }>();
    const admit = (claims: TokenClaims, isRevoked: boolean, user: UserCredentials | null): Principal => {
      // A password change or a deletion moves credentialsVersion on: every older token dies with it.
      if (isRevoked || !user || !user.active || user.credentialsVersion !== claims.cv) throw revoked();
      const made = principals.get(claims);
      if (made?.user === user) return made.principal;
      const principal: Principal = {
        userId: user.userId,
        username: user.username,
        role: user.role,
        storeIds: user.storeIds,
        tokenId: claims.jti,
        tokenExpiresAt: new Date(claims.exp * 1000),
      };
      principals.set(claims, { user, principal });
      return principal;
    };
    const principalFor = async (claims: TokenClaims): Promise<Principal> => {
      const [isRevoked, user] = await Promise.all([options.denylist.isRevoked(claims.jti), options.credentials(claims.sub)]);
      return admit(claims, isRevoked, user);
    };
    /** The principal when the denylist and the credentials both answer from memory (a token in use): no promise. */
    const principalNow = (claims: TokenClaims): Principal | undefined => {
      const isRevoked = options.denylist.revokedNow?.(claims.jti);
      if (isRevoked === undefined) return undefined;
      const user = options.credentials.fresh?.(claims.sub);
      return user === undefined ? undefined : admit(claims, isRevoked, user);
    };
    const invalid = (error: unknown) => {
      const message = (error as Error).message ?? '';
      return new Unauthorized(/expired/i.test(message) ? 'The token has expired; log in again.' : 'A valid bearer token is required.');
    };

    /**
     * The checks of a request's token, callback style: a token in use (verified before, its
     * revocation and its user's credentials answered from memory) is admitted without a
     * promise, and so without the turn of the microtask queue an async hook costs a request.
     */
    /** Admits the request with these verified claims, or refuses it (made once: no closure per request). */
    const admitClaims = (request: FastifyRequest, done: (error?: Error) => void, claims: TokenClaims): void => {
      let principal: Principal | undefined;
      try {
        principal = principalNow(claims);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (principal) {
        request.principal = principal;
        done();
        return;
      }
      principalFor(claims).then((admitted) => {
        request.principal = admitted;
        done();
      }, done);
    };
    const admitRequest = (request: FastifyRequest, done: (error?: Error) => void): void => {
      let claims: TokenClaims | null;
      try {
        const token = bearerToken(request.headers.authorization);
        claims = token === null ? null : claimsOf(token);
      } catch (error) {
        done(invalid(error));
        return;
      }
      if (claims !== null) {
        admitClaims(request, done, claims);
        return;
      }
      // Any other shape: jwtVerify refuses it, with its own reason.
      request
        .jwtVerify()
        .then((verified) => tokenClaims.parse(verified))
        .then(
          (verified) => admitClaims(request, done, verified),
          (error: unknown) => done(invalid(error)),
        );
    };
    app.decorate('authenticate', (request: FastifyRequest) => new Promise<void>((resolve, reject) => admitRequest(request, (error) => (error ? reject(error) : resolve()))));
    app.decorate('authenticateHook', function authenticateHook(request, _reply, done) {
      admitRequest(request, done);
    } satisfies onRequestHookHandler);

    app.decorate('verifyToken', async (token: string): Promise<Principal> => {
      let claims: TokenClaims;
      try {
        claims = claimsOf(token);
      } catch (error) {
        throw invalid(error);
      }
      return principalFor(claims);
    });

    app.decorate('issueToken', async (user: UserCredentials): Promise<IssuedToken> => {
      const token = app.jwt.sign(
        { sub: user.userId, jti: newId(), cv: user.credentialsVersion, role: user.role },
        { expiresIn: options.tokenTtlSeconds },
      );
      const { exp } = tokenClaims.pick({ exp: true }).parse(app.jwt.decode(token));
      return { token, expiresAt: new Date(exp * 1000) };
    });

    app.decorate('revokeToken', (principal: Principal) => options.denylist.revoke(principal.tokenId, principal.tokenExpiresAt));
  },
  { name: 'stockroom-auth' },
);

/** The caller of a route behind `authenticate`. */
export const principalOf = (request: FastifyRequest): Principal => {
  if (!request.principal) throw new Unauthorized();
  return request.principal;
};
