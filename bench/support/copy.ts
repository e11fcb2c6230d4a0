import type pg from 'pg';

/**
 * `COPY ... FROM STDIN` through a plain pg.Client, without pg-copy-streams: a "submittable"
 * (the hook pg offers to pg-cursor and friends) that answers the server's CopyInResponse
 * with CopyData messages, pausing while the socket's buffer is full, then CopyDone.
 *
 * `chunks` are already in COPY's text format (see `copyText`), many rows per chunk.
 */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

class CopyIn {
  callback: ((error: Error | null, rows?: number) => void) | null = null;
  private error: Error | null = null;
  private rows = 0;

  constructor(
    private readonly text: string,
    private readonly chunks: AsyncIterable<string> | Iterable<string>,
  ) {}

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    void this.pump(connection);
  }

  private async pump(connection: PgConnection): Promise<void> {
    try {
      for await (const chunk of this.chunks) {
        if (this.error) return;
        connection.sendCopyFromChunk(Buffer.from(chunk, 'utf8'));
        if (connection.stream.writableNeedDrain) {
          await new Promise<void>((resolve) => connection.stream.once('drain', () => resolve()));
        }
      }
      connection.endCopyFrom();
    } catch (error) {
      connection.sendCopyFail(error instanceof Error ? error.message : String(error));
    }
  }

  handleCommandComplete(message: { text?: string }): void {
    const match = /^COPY (\d+)/.exec(message.text ?? '');
    if (match) this.rows = Number(match[1]);
  }

  handleError(error: Error): void {
    this.error = error;
  }

  handleReadyForQuery(): void {
    const callback = this.callback;
    this.callback = null;
    callback?.(this.error, this.rows);
  }

  // Not expected during a COPY FROM, but pg may call them.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
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
export function copyFrom(client: pg.Client | pg.PoolClient, statement: string, chunks: AsyncIterable<string> | Iterable<string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const copy = new CopyIn(statement, chunks);
    copy.callback = (error, rows) => (error ? reject(error) : resolve(rows ?? 0));
    (client as unknown as { query(submittable: CopyIn): void }).query(copy);
  });
}

/** One field in COPY's text format: backslash, tab, newline and carriage return escaped; null as \N. */
export function copyField(value: string | number | bigint | boolean | null): string {
  if (value === null) return '\\N';
  if (typeof value !== 'string') return String(value);
  return value.replace(/[\\\t\n\r]/g, (char) => (char === '\\' ? '\\\\' : char === '\t' ? '\\t' : char === '\n' ? '\\n' : '\\r'));
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

  handleError(error: Error): void {
    this.error = error;
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
