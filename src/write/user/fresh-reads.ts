import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../shared/auth/plugin.js';
import { requireRole } from '../../shared/auth/principal.js';
import { idParam } from '../../shared/http/contract.js';
import { userWithSettingsView } from '../../shared/http/user-view.js';
import { answer, commandErrors } from '../http.js';
import { loadActiveUser } from './load-active.js';
import { toUserView } from './view.js';

/**
 * The user queries of the write API: a user read fresh from its stream, as the commands
 * see it, not from the read model, so that what a client reads right after changing a
 * user shows the change, with the revision its next If-Match must carry.
 */
export const userFreshReadRoutes: FastifyPluginAsyncZod = async (app) => {
  const commands = app.commands;

  app.get(
    '/api/users/:id',
    { schema: { tags: ['users'], summary: 'One user (manager, auditor, or the user)', params: idParam, response: { 200: userWithSettingsView, ...commandErrors } } },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.userId !== request.params.id) requireRole(principal, 'manager', 'auditor');
      const loaded = await loadActiveUser(commands, request.params.id);
      return answer(reply, 200, toUserView(loaded.state, loaded.revision));
    },
  );

  app.get(
    '/api/auth/me',
    { schema: { tags: ['auth'], summary: 'The caller', response: { 200: userWithSettingsView, ...commandErrors } } },
    async (request, reply) => {
      const loaded = await loadActiveUser(commands, principalOf(request).userId);
      return answer(reply, 200, toUserView(loaded.state, loaded.revision));
    },
  );
};
