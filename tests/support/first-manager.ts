import * as assert from 'uvu/assert';
import { reservations } from '../../src/write/aggregates.js';
import type { CommandHandler } from '../../src/write/command-handler.js';
import { ensureFirstManager } from '../../src/write/first-manager.js';
import { usernameReservationStream } from '../../src/write/streams.js';

/** Creates the first manager ("admin") through the commands and returns that user's id. */
export async function firstManagerId(commands: CommandHandler): Promise<string> {
  await ensureFirstManager(commands, { username: 'admin', password: 'admin-password-1' });
  const reservation = await commands.load(reservations, usernameReservationStream('admin'));
  assert.ok(reservation.state.status === 'held');
  return reservation.state.ownerId;
}
