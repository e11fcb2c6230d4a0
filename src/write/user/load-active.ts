import { NotFound } from '../../shared/errors.js';
import { users } from '../aggregates.js';
import type { CommandHandler } from '../command-handler.js';
import { userStream } from '../streams.js';
import { isActive } from './view.js';

/** A user's state caught up with its stream; one deleted or never registered is a 404. */
export async function loadActiveUser(commands: CommandHandler, userId: string) {
  const loaded = await commands.load(users, userStream(userId));
  if (!isActive(loaded)) throw new NotFound('user', userId);
  return loaded;
}
