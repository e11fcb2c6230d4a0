import pg from 'pg';

/**
 * One `COPY ... FROM STDIN` kept open on a connection of its own while its rows are made:
 * `write` sends a chunk of rows (already in COPY's text format, see `copyText`) and waits
 * only while the socket's buffer is full; `finish` ends the COPY and answers the rows it
 * wrote. Through a pg "submittable" (the hook pg-cursor uses), so no pg-copy-streams.
 * The COPY is one statement: its rows are all there or none (`abort`).
 */
export interface CopyIn {
  write(chunk: string): Promise<void>;
  finish(): Promise<number>;
  /** Fails the COPY (nothing it sent stays) and ends it (openCopyIn's connection closes); never throws. */
  abort(reason: string): Promise<void>;
}

interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

/** What pg calls on the active query; only the COPY's own messages matter. */
class CopySubmittable {
  connection: PgConnection | null = null;
  error: Error | null = null;
  rows = 0;
  private ready!: () => void;
  /** Resolves once the server asked for the data (CopyInResponse), or failed before. */
  readonly started = new Promise<void>((resolve) => (this.ready = resolve));
  callback: ((error: Error | null) => void) | null = null;

  constructor(private readonly text: string) {}

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    this.connection = connection;
    this.ready();
  }

  handleCommandComplete(message: { text?: string }): void {
    const match = /^COPY (\d+)/.exec(message.text ?? '');
    if (match) this.rows = Number(match[1]);
  }

  /** pg drops the active query at an error: no handleReadyForQuery follows, so this ends it. */
  handleError(error: Error): void {
    this.error = error;
    this.ready();
    this.handleReadyForQuery();
  }

  handleReadyForQuery(): void {
    const callback = this.callback;
    this.callback = null;
    callback?.(this.error);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** Opens a connection and starts `statement` (a `COPY ... FROM STDIN`) on it; the connection closes with the COPY. */
export async function openCopyIn(databaseUrl: string, statement: string): Promise<CopyIn> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let lost: Error | null = null;
  client.on('error', (error) => (lost = error));
  return startCopyIn(client, statement, {
    lost: () => lost,
    close: () => client.end().catch(() => {}),
  });
}

/**
 * Starts `statement` (a `COPY ... FROM STDIN`) on a connection the caller holds, which stays
 * open after it; `lost` tells a connection error the caller saw, `close` runs once at the end.
 */
export async function startCopyIn(
  client: pg.Client | pg.PoolClient,
  statement: string,
  { lost = () => null, close = async () => {} }: { lost?: () => Error | null; close?: () => Promise<void> } = {},
): Promise<CopyIn> {
  const copy = new CopySubmittable(statement);
  const done = new Promise<void>((resolve, reject) => {
    copy.callback = (error) => (error ? reject(error) : resolve());
  });
  done.catch(() => {}); // reported by write or finish
  (client as unknown as { query(submittable: CopySubmittable): void }).query(copy);
  await copy.started;
  let closed = false;
  const end = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  const failure = (): Error | null => copy.error ?? lost();
  return {
    async write(chunk) {
      const error = failure();
      if (error) throw error;
      const connection = copy.connection!;
      connection.sendCopyFromChunk(Buffer.from(chunk, 'utf8'));
      if (connection.stream.writableNeedDrain) await new Promise<void>((resolve) => connection.stream.once('drain', () => resolve()));
    },
    async finish() {
      try {
        const error = failure();
        if (error) throw error;
        copy.connection!.endCopyFrom();
        await done;
        return copy.rows;
      } finally {
        await end();
      }
    },
    async abort(reason) {
      if (closed) return;
      if (copy.connection && !failure()) {
        copy.connection.sendCopyFail(reason);
        await done.catch(() => {});
      }
      await end();
    },
  };
}

/** One field in COPY's text format: backslash, tab, newline and carriage return escaped. */
export function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (char) => (char === '\\' ? '\\\\' : char === '\t' ? '\\t' : char === '\n' ? '\\n' : '\\r'))
    : value;
}
