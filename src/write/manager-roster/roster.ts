import { catchUp } from '../../shared/event-store/catch-up.js';
import { type EventStore, streamCategory } from '../../shared/event-store/port.js';
import { parseEvent } from '../../shared/events/index.js';
import { MANAGER_ROSTER_STREAM } from '../../shared/streams.js';
import { managerRoster } from '../aggregates.js';
import type { CommandContext, CommandHandler } from '../command-handler.js';

/**
 * Keeps the manager roster beside the user streams. The roster never names a manager the
 * user streams do not: a manager joins it after their user stream says so, and leaves it
 * before (a demotion or deletion is refused there first). A crash in between leaves the
 * roster one short, which can refuse a change it could have allowed, never the reverse.
 */
export class ManagerRosterKeeper {
  constructor(
    private readonly commands: CommandHandler,
    private readonly store: EventStore,
  ) {}

  /** After the user stream made `userId` a manager. */
  async added(userId: string, context: CommandContext): Promise<void> {
    await this.started(context);
    await this.commands.handle(managerRoster, MANAGER_ROSTER_STREAM, { type: 'AddManager', userId }, { ...context, ifMatch: undefined });
  }

  /** Before the user stream stops `userId` being a manager; throws LastManager when they are the last. */
  async removing(userId: string, context: CommandContext): Promise<void> {
    await this.started(context);
    await this.commands.handle(managerRoster, MANAGER_ROSTER_STREAM, { type: 'RemoveManager', userId }, { ...context, ifMatch: undefined });
  }

  /**
   * The first time, the roster starts from the user streams as the event store holds them
   * (one read of the whole store, once per deployment's life; concurrent starters race on
   * "no stream" and one wins).
   */
  private async started(context: CommandContext): Promise<void> {
    if ((await this.commands.load(managerRoster, MANAGER_ROSTER_STREAM)).state.status === 'kept') return;
    const roles = new Map<string, string | null>();
    await catchUp(this.store, {
      after: 0n,
      onEvents: async (events) => {
        for (const recorded of events) {
          if (streamCategory(recorded.streamId) !== 'user') continue;
          const event = parseEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion);
          if (event.type === 'UserRegistered' || event.type === 'UserRoleChanged') roles.set(recorded.streamId, event.data.role);
          else if (event.type === 'UserDeleted') roles.set(recorded.streamId, null);
        }
      },
    });
    const userIds = [...roles].filter(([, role]) => role === 'manager').map(([streamId]) => streamId.slice('user-'.length));
    // Outside the request's Idempotency-Key: starting is the same for every request.
    const { idempotency: _, ...plain } = context;
    await this.commands.handle(managerRoster, MANAGER_ROSTER_STREAM, { type: 'StartRoster', userIds }, { ...plain, ifMatch: undefined });
  }
}
