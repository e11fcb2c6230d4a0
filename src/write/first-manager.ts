import { randomBytes } from 'node:crypto';
import { hashPassword } from '../shared/auth/passwords.js';
import { AlreadyExists } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import { reservations, users } from './aggregates.js';
import type { CommandHandler } from './command-handler.js';
import { userStream, usernameReservationStream } from './streams.js';

export interface FirstManager {
  username: string;
  /** Set only when it was generated now: printed once, never stored in clear. */
  generatedPassword: string | null;
  created: boolean;
}

/**
 * Creates the first manager once, when the username from the settings is not taken.
 * Two replicas starting together race on the reservation stream ("no stream" expected):
 * one creates, the other finds it taken. A replica that finds the name held but its user
 * not yet registered cannot tell a crash from a winner still at work: it finishes the job,
 * and whichever registers the user second finds it done (the same user id) and comes up.
 */
export async function ensureFirstManager(
  commands: CommandHandler,
  settings: { username: string; password: string | undefined },
): Promise<FirstManager> {
  const reservation = await commands.load(reservations, usernameReservationStream(settings.username));
  let userId = newId();
  if (reservation.state.status === 'held') {
    // Reserved but never registered (a crash between the two appends): finish the job.
    userId = reservation.state.ownerId;
    const owner = await commands.load(users, userStream(userId));
    if (owner.revision >= 0) return { username: settings.username, generatedPassword: null, created: false };
  }
  const generatedPassword = settings.password ? null : randomBytes(12).toString('base64url');
  const context = { actor: null, correlationId: `first-manager-${userId}`, now: new Date() };
  try {
    await commands.handle(
      reservations,
      usernameReservationStream(settings.username),
      { type: 'Reserve', value: settings.username, ownerId: userId, field: 'username' },
      context,
    );
  } catch (error) {
    // Another replica starting at the same moment won the name: it creates the manager.
    if (error instanceof AlreadyExists) return { username: settings.username, generatedPassword: null, created: false };
    throw error;
  }
  const passwordHash = await hashPassword(settings.password ?? generatedPassword ?? '');
  try {
    await commands.handle(
      users,
      userStream(userId),
      { type: 'RegisterUser', userId, username: settings.username, passwordHash, role: 'manager', displayName: 'First manager', email: null, storeIds: [] },
      context,
    );
  } catch (error) {
    // Another replica registered this very user (the reservation names one owner) first.
    if (error instanceof AlreadyExists) return { username: settings.username, generatedPassword: null, created: false };
    throw error;
  }
  return { username: settings.username, generatedPassword, created: true };
}
