import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod/v4';
import { principalOf } from '../../shared/auth/plugin.js';
import { hashPassword, verifyPassword } from '../../shared/auth/passwords.js';
import { Username } from '../../shared/auth/username.js';
import { requireRole } from '../../shared/auth/principal.js';
import { InvalidValue } from '../../shared/domain-errors.js';
import { Forbidden, NotFound } from '../../shared/errors.js';
import { Role } from '../../shared/events/user.js';
import { reservations, stores, users } from '../aggregates.js';
import { answer, commandContext, commandErrors, idForNew, written } from '../http.js';
import { idParam } from '../../shared/http/contract.js';
import { ManagerRosterKeeper } from '../manager-roster/roster.js';
import { storeStream, userStream, usernameReservationStream } from '../streams.js';
import type { UserCommand } from './commands.js';
import { userWithSettingsView } from '../../shared/http/user-view.js';
import { loadActiveUser } from './load-active.js';
import { isActive, toUserView } from './view.js';

const Password = z.string().min(8, 'must have at least 8 characters').max(200);
const Email = z.email().max(254).nullable();
const DisplayName = z.string().trim().min(1).max(120).nullable();
const StoreIds = z.array(z.uuid()).max(1000);

const writtenUser = userWithSettingsView.extend(written);

export const userRoutes: FastifyPluginAsyncZod = async (app) => {
  const commands = app.commands;
  // No change may leave the deployment without a manager (src/write/manager-roster).
  const roster = new ManagerRosterKeeper(commands, app.eventStore);

  const loadActive = (userId: string) => loadActiveUser(commands, userId);

  /** Staff may only be assigned to stores that exist and are open. */
  const checkStores = async (storeIds: readonly string[]) => {
    for (const [index, storeId] of storeIds.entries()) {
      const store = await commands.load(stores, storeStream(storeId));
      if (store.state.status !== 'open') throw new InvalidValue(`storeIds.${index}`, `names store ${storeId}, which is not open`);
    }
  };

  const sendUser = (reply: Parameters<typeof answer>[0], status: number, result: { state: unknown; revision: number; position: bigint }, userId: string) => {
    const loaded = { ...result, state: result.state as Parameters<typeof toUserView>[0] };
    if (!isActive(loaded)) throw new NotFound('user', userId);
    return answer(reply, status, { ...toUserView(loaded.state, loaded.revision), position: loaded.position.toString() });
  };

  app.post(
    '/api/users',
    {
      preHandler: app.idempotent,
      schema: {
        tags: ['users'],
        summary: 'Register a user (manager)',
        body: z.strictObject({
          username: Username,
          password: Password,
          role: Role,
          displayName: DisplayName.optional(),
          email: Email.optional(),
          storeIds: StoreIds.optional(),
        }),
        response: { 201: writtenUser, ...commandErrors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'manager');
      const context = commandContext(request);
      const body = request.body;
      const userId = idForNew(request);
      const storeIds = [...new Set(body.storeIds ?? [])];
      await checkStores(storeIds);
      // Uniqueness first: the reservation stream is appended with "no stream" expected.
      await commands.handle(
        reservations,
        usernameReservationStream(body.username),
        { type: 'Reserve', value: body.username, ownerId: userId, field: 'username' },
        context,
      );
      const result = await commands.handle(
        users,
        userStream(userId),
        {
          type: 'RegisterUser',
          userId,
          username: body.username,
          passwordHash: await hashPassword(body.password),
          role: body.role,
          displayName: body.displayName ?? null,
          email: body.email ?? null,
          storeIds,
        },
        context,
      );
      if (body.role === 'manager') await roster.added(userId, context);
      void reply.header('location', `/api/users/${userId}`);
      return sendUser(reply, 201, result, userId);
    },
  );

  app.patch(
    '/api/users/:id',
    {
      preHandler: app.idempotent,
      schema: {
        tags: ['users'],
        summary: 'Change a user’s profile or role (manager)',
        params: idParam,
        body: z.strictObject({ displayName: DisplayName.optional(), email: Email.optional(), role: Role.optional() }),
        response: { 200: writtenUser, ...commandErrors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'manager');
      const userId = request.params.id;
      const { role, ...profile } = request.body;
      const changes: UserCommand[] = [];
      if (profile.displayName !== undefined || profile.email !== undefined || role === undefined) {
        changes.push({ type: 'UpdateProfile', userId, ...profile });
      }
      if (role !== undefined) changes.push({ type: 'ChangeRole', userId, role });
      const context = commandContext(request);
      const wasManager = role !== undefined && (await loadActive(userId)).state.role === 'manager';
      const demoting = wasManager && role !== 'manager';
      // Off the roster first: of two managers demoting each other at once, one is refused there.
      if (demoting) await roster.removing(userId, context);
      let result;
      try {
        result = await commands.handle(users, userStream(userId), changes, context);
      } catch (error) {
        // Not demoted after all (If-Match, a refusal): back on the roster.
        if (demoting) await roster.added(userId, { ...context, idempotency: undefined });
        throw error;
      }
      if (role === 'manager' && !wasManager) await roster.added(userId, context);
      return sendUser(reply, 200, result, userId);
    },
  );

  app.put(
    '/api/users/:id/stores',
    {
      preHandler: app.idempotent,
      schema: {
        tags: ['users'],
        summary: 'Assign a user to stores (manager)',
        params: idParam,
        body: z.strictObject({ storeIds: StoreIds }),
        response: { 200: writtenUser, ...commandErrors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'manager');
      const storeIds = [...new Set(request.body.storeIds)];
      await checkStores(storeIds);
      const userId = request.params.id;
      const result = await commands.handle(users, userStream(userId), { type: 'AssignStores', userId, storeIds }, commandContext(request));
      return sendUser(reply, 200, result, userId);
    },
  );

  app.delete(
    '/api/users/:id',
    {
      preHandler: app.idempotent,
      schema: {
        tags: ['users'],
        summary: 'Delete a user and revoke every token (manager)',
        params: idParam,
        response: { 200: z.object({ id: z.uuid(), ...written }), ...commandErrors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, 'manager');
      const userId = request.params.id;
      if (userId === principal.userId) throw new Forbidden('You cannot delete your own account; ask another manager.');
      const context = commandContext(request);
      const before = await loadActive(userId);
      if (before.state.role === 'manager') await roster.removing(userId, context);
      const result = await commands.handle(users, userStream(userId), { type: 'DeleteUser', userId }, context);
      // The name is free again once its owner is gone.
      await commands.handle(
        reservations,
        usernameReservationStream(before.state.username),
        { type: 'Release', ownerId: userId },
        { ...context, ifMatch: undefined },
      );
      return answer(reply, 200, { id: userId, revision: result.revision, position: result.position.toString() });
    },
  );

  app.patch(
    '/api/auth/me',
    {
      preHandler: app.idempotent,
      schema: {
        tags: ['auth'],
        summary: 'Change your display name, email, or whether you get low-stock emails',
        body: z.strictObject({ displayName: DisplayName.optional(), email: Email.optional(), lowStockEmails: z.boolean().optional() }),
        response: { 200: writtenUser, ...commandErrors },
      },
    },
    async (request, reply) => {
      const userId = principalOf(request).userId;
      const result = await commands.handle(users, userStream(userId), { type: 'UpdateProfile', userId, ...request.body }, commandContext(request));
      return sendUser(reply, 200, result, userId);
    },
  );

  app.put(
    '/api/auth/me/password',
    {
      // A stolen token must not become a way to guess the current password.
      preHandler: [
        app.rateLimit({ max: 10, timeWindow: '1 minute', keyGenerator: (request) => request.principal?.userId ?? request.ip }),
        app.idempotent,
      ],
      schema: {
        tags: ['auth'],
        summary: 'Change your password; every earlier token is revoked',
        body: z.strictObject({ currentPassword: z.string().min(1).max(200), newPassword: Password }),
        response: { 200: z.object({ id: z.uuid(), ...written }), ...commandErrors },
      },
    },
    async (request, reply) => {
      const userId = principalOf(request).userId;
      const loaded = await loadActive(userId);
      if (!(await verifyPassword(request.body.currentPassword, loaded.state.passwordHash))) {
        throw new InvalidValue('currentPassword', 'is not your current password');
      }
      const result = await commands.handle(
        users,
        userStream(userId),
        { type: 'ChangePassword', userId, passwordHash: await hashPassword(request.body.newPassword) },
        commandContext(request),
      );
      return answer(reply, 200, { id: userId, revision: result.revision, position: result.position.toString() });
    },
  );
};
