import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../db/pool.js';
import { type Snapshot, type SnapshotStore, UnreadableSnapshot } from './port.js';

const snapshotRowSchema = z.object({
  revision: z.bigint().transform(Number),
  position: z.bigint(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  state: z.unknown(),
});

/**
 * Snapshots in PostgreSQL (migration 013), whichever event store holds the events. Rows of
 * other fingerprints (an earlier release's) are pruned when a stream's snapshot is written,
 * once a day has passed: long enough for a rolling deploy, or a rollback, to be over.
 */
export class PostgresSnapshotStore implements SnapshotStore {
  constructor(private readonly pool: DatabasePool) {}

  async read(streamId: string, fingerprint: string): Promise<Snapshot | null> {
    const row = await this.pool.maybeOne(sql.unsafe`
      select revision, position, hash, state from snapshots where stream_id = ${streamId} and fingerprint = ${fingerprint}`);
    if (!row) return null;
    const parsed = snapshotRowSchema.safeParse(row);
    if (!parsed.success) throw new UnreadableSnapshot(streamId, z.prettifyError(parsed.error), { cause: parsed.error });
    return { streamId, fingerprint, ...parsed.data };
  }

  async write(snapshot: Snapshot): Promise<void> {
    const state = JSON.stringify(snapshot.state);
    await this.pool.query(sql.unsafe`
      with pruned as (
        delete from snapshots
         where stream_id = ${snapshot.streamId} and fingerprint <> ${snapshot.fingerprint} and taken_at < now() - interval '1 day'
      )
      insert into snapshots (stream_id, fingerprint, revision, position, hash, state)
      values (${snapshot.streamId}, ${snapshot.fingerprint}, ${snapshot.revision}, ${snapshot.position.toString()}::bigint, ${snapshot.hash}, ${state}::jsonb)
      on conflict (stream_id, fingerprint) do update
        set revision = excluded.revision, position = excluded.position, hash = excluded.hash, state = excluded.state, taken_at = now()
        where snapshots.revision < excluded.revision`);
  }

  async discard(streamId: string, fingerprint: string): Promise<void> {
    await this.pool.query(sql.unsafe`delete from snapshots where stream_id = ${streamId} and fingerprint = ${fingerprint}`);
  }
}
