import { randomBytes } from 'node:crypto';
import { hashPassword } from '../shared/auth/passwords.js';
import type { EventStore } from '../shared/event-store/port.js';
import { reservations, users } from './aggregates.js';
import type { CommandContext, CommandHandler } from './command-handler.js';
import { ensureFirstManager } from './first-manager.js';
import { ManagerRosterKeeper } from './manager-roster/roster.js';
import { userStream, usernameReservationStream } from './streams.js';

export interface RestoredManager {
  userId: string;
  username: string;
  /** 'created': no such user, a new manager; 'promoted': made a manager; 'already': was one. */
  outcome: 'created' | 'promoted' | 'already';
  /** A new password, printed once, when one was made (a new user, or asked for). */
  password: string | null;
}

/**
 * The operator's way back in (`npm run users:restore-manager -- <username>`): run with the
 * server's own settings, so it needs what only an operator has (DATABASE_URL, or DATA_DIR
 * of the embedded default), never a token. Makes the user a manager, creating them when the
 * name is free, and with `resetPassword` gives them a new password (revoking their tokens).
 */
export async function restoreManager(
  commands: CommandHandler,
  store: EventStore,
  username: string,
  { resetPassword = false }: { resetPassword?: boolean } = {},
): Promise<RestoredManager> {
  const context: CommandContext = { actor: null, correlationId: `restore-manager-${Date.now()}`, now: new Date() };
  const roster = new ManagerRosterKeeper(commands, store);
  const reservation = await commands.load(reservations, usernameReservationStream(username));
  if (reservation.state.status === 'free') {
    const created = await ensureFirstManager(commands, { username, password: undefined });
    const owner = await commands.load(reservations, usernameReservationStream(username));
    if (owner.state.status !== 'held') throw new Error(`${username}: could not be created`);
    await roster.added(owner.state.ownerId, context);
    return { userId: owner.state.ownerId, username, outcome: 'created', password: created.generatedPassword };
  }
  const userId = reservation.state.ownerId;
  const user = await commands.load(users, userStream(userId));
  if (user.state.status !== 'active') throw new Error(`${username}: the name is reserved by a user that does not exist`);
  const outcome = user.state.role === 'manager' ? 'already' : 'promoted';
  if (outcome === 'promoted') await commands.handle(users, userStream(userId), { type: 'ChangeRole', userId, role: 'manager' }, context);
  // Also when already a manager: a roster left one short by a crash is repaired here.
  await roster.added(userId, context);
  let password: string | null = null;
  if (resetPassword) {
    password = randomBytes(12).toString('base64url');
    await commands.handle(users, userStream(userId), { type: 'ChangePassword', userId, passwordHash: await hashPassword(password) }, context);
  }
  return { userId, username, outcome, password };
}
