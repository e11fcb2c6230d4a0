import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod/v4';
import { Unauthorized } from '../errors.js';
import { newId } from '../ids.js';
import type { TokenDenylist } from './denylist.js';
import type { CredentialsSource, Principal, UserCredentials } from './principal.js';

const tokenClaims = z.object({
  sub: z.uuid(),
  jti: z.uuid(),
  /** credentialsVersion of the user when the token was issued. */
  cv: z.int().nonnegative(),
  exp: z.number(),
});

export interface AuthOptions {
  secret: string;
  tokenTtlSeconds: number;
  denylist: TokenDenylist;
  credentials: CredentialsSource;
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: refuses the request unless it carries a live token of an active user. */
    authenticate(request: FastifyRequest): Promise<void>;
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

    const principalFor = async (claims: z.infer<typeof tokenClaims>): Promise<Principal> => {
      const [isRevoked, user] = await Promise.all([options.denylist.isRevoked(claims.jti), options.credentials(claims.sub)]);
      // A password change or a deletion moves credentialsVersion on: every older token dies with it.
      if (isRevoked || !user || !user.active || user.credentialsVersion !== claims.cv) throw revoked();
      return {
        userId: user.userId,
        username: user.username,
        role: user.role,
        storeIds: user.storeIds,
        tokenId: claims.jti,
        tokenExpiresAt: new Date(claims.exp * 1000),
      };
    };
    const invalid = (error: unknown) => {
      const message = (error as Error).message ?? '';
      return new Unauthorized(/expired/i.test(message) ? 'The token has expired; log in again.' : 'A valid bearer token is required.');
    };

    app.decorate('authenticate', async (request: FastifyRequest) => {
      let claims: z.infer<typeof tokenClaims>;
      try {
        claims = tokenClaims.parse(await request.jwtVerify());
      } catch (error) {
        throw invalid(error);
      }
      request.principal = await principalFor(claims);
    });

    app.decorate('verifyToken', async (token: string): Promise<Principal> => {
      let claims: z.infer<typeof tokenClaims>;
      try {
        claims = tokenClaims.parse(app.jwt.verify(token));
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
