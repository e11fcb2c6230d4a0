import type { DatabasePool } from 'slonik';
import { Forwarder } from './projections/forwarder.js';
import { Notifier } from './projections/notifier/notifier.js';
import { MAILER_GROUP, mailerCheckpoint, startMailer } from './projections/mailer/run.js';
import { postgresReadModelCheckpoint } from './projections/lag.js';
import { ensureReadModelSchema } from './projections/postgres/read-model-schema.js';
import { readModelProjections } from './projections/postgres/read-model-projections.js';
import { ensureCurrentReadModel } from './projections/postgres/read-model-upgrade.js';
import { POSTGRES_PROJECTOR_GROUP, startPostgresProjector } from './projections/postgres/run.js';
import { REDIS_PROJECTOR_GROUP, startRedisProjector } from './projections/redis/run.js';
import type { Redis } from './shared/redis.js';
import { RedisReadModel } from './shared/hot-model/redis-read-model.js';
import type { Config } from './shared/config.js';
import { InProcessBus } from './shared/event-bus/in-process.js';
import { KafkaBus } from './shared/event-bus/kafka.js';
import type { EventBus } from './shared/event-bus/port.js';
import type { EventStore } from './shared/event-store/port.js';

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const EVENTS_TOPIC = 'stockroom.events';

/** Kafka when KAFKA_BROKERS is set; otherwise the in-process bus of the embedded default. */
export function createEventBus(config: Config, log: Log): EventBus {
  if (!config.KAFKA_BROKERS) return new InProcessBus();
  return new KafkaBus({
    brokers: config.KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
    topic: EVENTS_TOPIC,
    clientId: 'stockroom',
    log: (level, message, extra) => log[level](extra ?? {}, message),
  });
}

export interface Background {
  forwarder: Forwarder | null;
  /** The live feed of this process's websockets (role notifier). */
  notifier: Notifier | null;
  stop(): Promise<void>;
}

/** Starts the roles that run beside (or instead of) the HTTP server: projectors, then the forwarder. */
export async function startBackground(deps: {
  config: Config;
  pool: DatabasePool;
  databaseUrl: string;
  eventStore: EventStore;
  bus: EventBus;
  log: Log;
  redis?: Redis | null;
  /** Appended to every consumer group's name: tests sharing one broker keep their groups apart. */
  groupSuffix?: string;
}): Promise<Background> {
  const { config, pool, eventStore, bus, log } = deps;
  const stops: (() => Promise<void>)[] = [];
  if (config.ROLES.includes('projector') || config.ROLES.includes('read-api')) {
    // A read model of another release is rebuilt here, before the projector starts on it.
    await ensureCurrentReadModel({ databaseUrl: deps.databaseUrl, pool, store: eventStore, projections: readModelProjections, log, projects: config.ROLES.includes('projector') });
  }
  if (config.ROLES.includes('projector')) {
    const group = (name: string) => (deps.groupSuffix ? { group: `${name}-${deps.groupSuffix}` } : {});
    const projector = await startPostgresProjector({ bus, pool, store: eventStore, projections: readModelProjections, log, ...group(POSTGRES_PROJECTOR_GROUP) });
    stops.unshift(() => projector.stop());
    log.info({}, 'PostgreSQL projector started');
    if (deps.redis) {
      const hot = await startRedisProjector({ bus, redis: deps.redis, store: eventStore, log, ...group(REDIS_PROJECTOR_GROUP) });
      stops.unshift(() => hot.stop());
      log.info({}, 'Redis projector started');
    }
  }
  let notifier: Notifier | null = null;
  if (config.ROLES.includes('notifier')) {
    // Before the forwarder: in the embedded default it replays at start, and the feed joins from now.
    const started = new Notifier({ bus, store: eventStore, log });
    await started.start();
    stops.unshift(() => started.stop());
    notifier = started;
    log.info({}, 'notifier started');
  }
  if (config.ROLES.includes('mailer')) {
    // Recipients and names come from the read model: a mailer-only process needs its tables.
    await ensureReadModelSchema(deps.databaseUrl);
    const mailer = await startMailer({ bus, pool, store: eventStore, config, log }, deps.groupSuffix ? { group: `${MAILER_GROUP}-${deps.groupSuffix}` } : {});
    stops.unshift(() => mailer.stop());
  }
  let forwarder: Forwarder | null = null;
  if (config.ROLES.includes('forwarder')) {
    const inProcess = bus instanceof InProcessBus;
    forwarder = new Forwarder({
      store: eventStore,
      bus,
      pool,
      databaseUrl: deps.databaseUrl,
      log,
      // The in-process bus forgets on restart: start from what the local projectors have applied.
      ...(inProcess ? { startAfter: () => localCheckpoint(pool, deps.redis ?? null, config.ROLES.includes('mailer')) } : {}),
    });
    forwarder.start();
    const running = forwarder;
    stops.unshift(() => running.stop());
  }
  return {
    forwarder,
    notifier,
    async stop() {
      for (const stop of stops) await stop().catch((error: unknown) => log.error({ err: error }, 'while stopping'));
      await bus.close();
    },
  };
}

/** The least of the local projectors' checkpoints: nothing either has not applied is skipped. */
async function localCheckpoint(pool: DatabasePool, redis: Redis | null, mailer = false): Promise<bigint> {
  const projected = (await postgresReadModelCheckpoint(pool)) ?? 0n;
  // The mailer's too: it may lag the projector. A mailer that never ran starts beside the
  // projector; it reads what it needs of each stream's past from the event store.
  const mailed = mailer ? ((await mailerCheckpoint(pool)) ?? projected) : projected;
  const postgres = mailed < projected ? mailed : projected;
  if (!redis) return postgres;
  const hot = await new RedisReadModel(redis).watermark();
  return hot === undefined || hot === null || hot > postgres ? postgres : hot;
}
