import type {} from '@fastify/rate-limit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod/v4';
import { principalOf } from '../../shared/auth/plugin.js';
import { decoyHash, verifyPassword } from '../../shared/auth/passwords.js';
import { isUsername } from '../../shared/auth/username.js';
import { Unauthorized } from '../../shared/errors.js';
import { reservations, users } from '../aggregates.js';
import { problemSchema } from '../../shared/http/contract.js';
import { userStream, usernameReservationStream } from '../streams.js';
import { userWithSettingsView } from '../../shared/http/user-view.js';
import { isActive, toUserView } from '../user/view.js';

export interface LoginRoutesOptions {
  loginRateLimit: number;
}

/** Login needs no token; logout does. Login attempts are limited per address and username. */
export const loginRoutes: FastifyPluginAsyncZod<LoginRoutesOptions> = async (app, options) => {
  const commands = app.commands;

  app.post(
    '/api/auth/login',
    {
      // Per address too: one address may not try every username in turn (scrypt is costly).
      preHandler: app.rateLimit({ max: options.loginRateLimit * 5, timeWindow: '1 minute' }),
      config: {
        rateLimit: {
          // After parsing, so that the key can name the username: one address cannot lock out everyone.
          hook: 'preValidation',
          max: options.loginRateLimit,
          timeWindow: '1 minute',
          keyGenerator: (request) => {
            const username = (request.body as { username?: unknown } | undefined)?.username;
            return `${request.ip}|${typeof username === 'string' ? username.toLowerCase() : ''}`;
          },
        },
      },
      schema: {
        tags: ['auth'],
        summary: 'Log in; answers a bearer token',
        security: [],
        body: z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) }),
        response: {
          200: z.object({ token: z.string(), expiresAt: z.iso.datetime(), user: userWithSettingsView }),
          400: problemSchema,
          401: problemSchema,
          429: problemSchema,
        },
      },
    },
    async (request) => {
      const { username, password } = request.body;
      // Only a name registration could have accepted is looked up (src/shared/auth/username.ts).
      const reservation = isUsername(username) ? await commands.load(reservations, usernameReservationStream(username)) : null;
      const ownerId = reservation?.state.status === 'held' ? reservation.state.ownerId : null;
      const user = ownerId ? await commands.load(users, userStream(ownerId)) : null;
      const active = user && isActive(user) ? user : null;
      // Verify against a decoy when the user is unknown: the answer takes as long either way.
      const valid = await verifyPassword(password, active ? active.state.passwordHash : await decoyHash());
      if (!active || !valid) throw new Unauthorized('Wrong username or password.');
      const issued = await app.issueToken({
        userId: active.state.userId,
        username: active.state.username,
        role: active.state.role,
        storeIds: active.state.storeIds,
        active: true,
        credentialsVersion: active.state.credentialsVersion,
      });
      request.log.info({ userId: active.state.userId }, 'logged in');
      return { token: issued.token, expiresAt: issued.expiresAt.toISOString(), user: toUserView(active.state, active.revision) };
    },
  );
};

export const logoutRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/api/auth/logout',
    { schema: { tags: ['auth'], summary: 'Revoke the token of this request', response: { 204: z.null(), 401: problemSchema } } },
    async (request, reply) => {
      await app.revokeToken(principalOf(request));
      return reply.code(204).send(null);
    },
  );
};
