import type pg from 'pg';
import { copyText, startCopyIn } from '../../src/shared/db/copy-in.js';

/**
 * The bench's COPY through a plain pg.Client, without pg-copy-streams: FROM STDIN by the
 * rebuild's own (src/shared/db/copy-in.ts), TO STDOUT by a "submittable" below (the hook pg
 * offers to pg-cursor and friends). Rows travel in COPY's text format (`copyField`).
 */
interface PgConnection {
  query(text: string): void;
  sendCopyFail(message: string): void;
}

/**
 * After a COPY into es_events: each stream's last revision into es_streams, as es_append
 * keeps it, so that appends after the load check against the streams the COPY wrote.
 */
export async function recordStreamRevisions(client: pg.Client | pg.PoolClient, streams: readonly { stream: string; revision: number }[]): Promise<void> {
  await client.query('insert into es_streams (stream_id, revision) select * from unnest($1::text[], $2::bigint[])', [
    streams.map((stream) => stream.stream),
    streams.map((stream) => stream.revision),
  ]);
}

/** Runs `statement` (a `COPY ... FROM STDIN`) feeding it `chunks`; resolves with the rows copied. */
export async function copyFrom(client: pg.Client | pg.PoolClient, statement: string, chunks: AsyncIterable<string> | Iterable<string>): Promise<number> {
  const copy = await startCopyIn(client, statement);
  try {
    for await (const chunk of chunks) await copy.write(chunk);
  } catch (error) {
    await copy.abort(error instanceof Error ? error.message : String(error));
    throw error;
  }
  return copy.finish();
}

/** One field in COPY's text format: backslash, tab, newline and carriage return escaped; null as \N. */
export function copyField(value: string | number | bigint | boolean | null): string {
  if (value === null) return '\\N';
  return typeof value === 'string' ? copyText(value) : String(value);
}

/**
 * `COPY ... TO STDOUT` through a plain pg.Client, the other direction of `copyFrom`: pg hands
 * each CopyData message to the active submittable, which here only counts its rows and
 * bytes (as a reader that passes them on would touch them), holding none of them.
 */
class CopyOut {
  callback: ((error: Error | null, result?: { rows: number; bytes: number }) => void) | null = null;
  private error: Error | null = null;
  private rows = 0;
  private bytes = 0;

  constructor(private readonly text: string) {}

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyData(message: { chunk: Buffer }): void {
    this.bytes += message.chunk.length;
  }

  handleCommandComplete(message: { text?: string }): void {
    const match = /^COPY (\d+)/.exec(message.text ?? '');
    if (match) this.rows = Number(match[1]);
  }

  /** pg drops the active query at an error: no handleReadyForQuery follows, so this ends it. */
  handleError(error: Error): void {
    this.error = error;
    this.handleReadyForQuery();
  }

  handleReadyForQuery(): void {
    const callback = this.callback;
    this.callback = null;
    callback?.(this.error, { rows: this.rows, bytes: this.bytes });
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: PgConnection): void {
    connection.sendCopyFail('not a COPY FROM');
  }
}

/** Runs `statement` (a `COPY ... TO STDOUT`); resolves with the rows and bytes the server sent. */
export function copyTo(client: pg.Client | pg.PoolClient, statement: string): Promise<{ rows: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const copy = new CopyOut(statement);
    copy.callback = (error, result) => (error ? reject(error) : resolve(result ?? { rows: 0, bytes: 0 }));
    (client as unknown as { query(submittable: CopyOut): void }).query(copy);
  });
}
