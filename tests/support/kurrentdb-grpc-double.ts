// Test double of KurrentDB's gRPC Streams service (Append, Read, $all subscriptions), for the tests only: KurrentDB cannot run here.
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import type * as StreamsPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb.js';
import type * as SharedPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb.js';
import type * as StreamsGrpcPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_grpc_pb.js';

/*
 * Served from the service definitions the client package ships (it ships the generated
 * code, not the .proto files). Only what the KurrentDB adapter uses, behaving as the
 * server documents it:
 * - one log, every event at a position of its own (commit = prepare = its log position),
 *   positions growing by the bytes each record takes, so they are not dense;
 * - expected revision: no_stream, stream_exists, any, an exact revision; a mismatch answers
 *   WrongExpectedVersion with the current revision, or "no stream";
 * - idempotency by event id: the same ids appended again at the revision they were written
 *   after (or with any/stream_exists, where they are) answer success and write nothing;
 *   ids are not unique across streams (the server does not check that);
 * - stream reads both ways, $all reads both ways from a position, subscriptions to $all
 *   from a position (exclusive) with a filter on stream name or event type (regex or prefixes),
 *   live after catching up.
 * System events (types and streams starting with `$`) are in the log too, as on a real server,
 * so that the adapter's filter matters. It does not serve ServerFeatures: the client then
 * uses the plain Append call.
 */

const require = createRequire(import.meta.url);
const base = '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/';
const streamsPb = require(`${base}streams_pb.js`) as typeof StreamsPb;
const sharedPb = require(`${base}shared_pb.js`) as typeof SharedPb;
const streamsGrpc = require(`${base}streams_grpc_pb.js`) as typeof StreamsGrpcPb;
const { ReadResp, AppendResp, ReadReq } = streamsPb;
const { Empty, UUID, StreamIdentifier } = sharedPb;

interface LoggedEvent {
  id: string;
  streamId: string;
  revision: number;
  position: bigint;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
  /** .NET ticks since the Unix epoch (100 ns), as the server's `created` metadata. */
  created: bigint;
}

type Filter = (event: LoggedEvent) => boolean;

interface Live {
  call: grpc.ServerWritableStream<StreamsPb.ReadReq, StreamsPb.ReadResp>;
  filter: Filter;
  structuredIds: boolean;
}

export interface KurrentDbGrpcDouble {
  /** Connection string for the client: `kurrentdb://127.0.0.1:<port>?tls=false`. */
  url: string;
  port: number;
  /** Ends every live subscription with UNAVAILABLE, as a dropped connection does. */
  dropSubscriptions(): number;
  /** Appends `count` system events, as the server writes its own ($stats and the like). */
  writeSystemEvents(count: number): void;
  /** Counters of the calls served, for tests that check what the adapter asked for. */
  calls: { append: number; read: number; subscribe: number };
  stop(): Promise<void>;
}

const text = (bytes: Uint8Array | string): string => (typeof bytes === 'string' ? Buffer.from(bytes, 'base64').toString('utf8') : Buffer.from(bytes).toString('utf8'));
const bytesOf = (value: Uint8Array | string): Uint8Array => (typeof value === 'string' ? Buffer.from(value, 'base64') : value);

const uuidText = (uuid: SharedPb.UUID | undefined): string => {
  if (!uuid) return '';
  if (uuid.hasString()) return uuid.getString();
  const structured = uuid.getStructured();
  if (!structured) return '';
  const hex = (value: string) => BigInt.asUintN(64, BigInt(value)).toString(16).padStart(16, '0');
  const ms = hex(String(structured.getMostSignificantBits()));
  const ls = hex(String(structured.getLeastSignificantBits()));
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-${ms.slice(12)}-${ls.slice(0, 4)}-${ls.slice(4)}`;
};

const toUuid = (id: string, structured: boolean): SharedPb.UUID => {
  const uuid = new UUID();
  if (!structured) return uuid.setString(id);
  const hex = id.replace(/-/g, '');
  const signed = (part: string) => BigInt.asIntN(64, BigInt(`0x${part}`)).toString();
  const value = new UUID.Structured();
  // jspb declares these int64 fields as strings or numbers depending on jstype; strings keep all bits.
  (value as unknown as { setMostSignificantBits(v: string): void }).setMostSignificantBits(signed(hex.slice(0, 16)));
  (value as unknown as { setLeastSignificantBits(v: string): void }).setLeastSignificantBits(signed(hex.slice(16)));
  return uuid.setStructured(value);
};

function filterOf(options: StreamsPb.ReadReq.Options): Filter {
  if (!options.hasFilter()) return () => true;
  const filter = options.getFilter()!;
  const on = filter.hasEventType() ? 'type' : 'stream';
  const expression = filter.hasEventType() ? filter.getEventType()! : filter.getStreamIdentifier()!;
  const regex = expression.getRegex();
  const prefixes = expression.getPrefixList();
  const matches = regex ? ((value: string) => new RegExp(regex).test(value)) : (value: string) => prefixes.some((p) => value.startsWith(p));
  return (event) => matches(on === 'type' ? event.type : event.streamId);
}

/** @param port 0 for any free port; a fixed one to stand in again for a server that was down. */
export async function startKurrentDbGrpcDouble(port = 0): Promise<KurrentDbGrpcDouble> {
  const log: LoggedEvent[] = [];
  const streams = new Map<string, LoggedEvent[]>();
  const live = new Set<Live>();
  let nextPosition = 1_536n;
  const calls = { append: 0, read: 0, subscribe: 0 };

  const toRecorded = (event: LoggedEvent, structuredIds: boolean): StreamsPb.ReadResp => {
    const recorded = new ReadResp.ReadEvent.RecordedEvent();
    recorded.setId(toUuid(event.id, structuredIds));
    recorded.setStreamIdentifier(new StreamIdentifier().setStreamName(Buffer.from(event.streamId, 'utf8')));
    recorded.setStreamRevision(String(event.revision));
    recorded.setPreparePosition(event.position.toString());
    recorded.setCommitPosition(event.position.toString());
    recorded.getMetadataMap().set('type', event.type).set('content-type', event.contentType).set('created', event.created.toString());
    recorded.setData(event.data);
    recorded.setCustomMetadata(event.customMetadata);
    const read = new ReadResp.ReadEvent().setEvent(recorded).setCommitPosition(event.position.toString());
    return new ReadResp().setEvent(read);
  };

  const write = (streamId: string, proposed: Omit<LoggedEvent, 'streamId' | 'revision' | 'position' | 'created'>[]): LoggedEvent[] => {
    const stream = streams.get(streamId) ?? [];
    streams.set(streamId, stream);
    const written = proposed.map((p) => {
      const event: LoggedEvent = {
        ...p,
        streamId,
        revision: stream.length,
        position: nextPosition,
        created: BigInt(Date.now()) * 10_000n,
      };
      // A record takes its header and its bytes in the log: positions are byte offsets.
      nextPosition += 90n + BigInt(streamId.length + p.type.length + p.data.length + p.customMetadata.length);
      stream.push(event);
      log.push(event);
      return event;
    });
    for (const subscriber of live) {
      for (const event of written) if (subscriber.filter(event)) subscriber.call.write(toRecorded(event, subscriber.structuredIds));
    }
    return written;
  };

  let systemCount = 0;
  const writeSystemEvents = (count: number) => {
    for (let i = 0; i < count; i += 1) {
      systemCount += 1;
      const data = Buffer.from(JSON.stringify({ n: systemCount }));
      write('$stats-127.0.0.1:2113', [{ id: crypto.randomUUID(), type: '$statsCollected', contentType: 'application/json', data, customMetadata: new Uint8Array() }]);
    }
  };
  // The server writes its own events before anyone appends.
  writeSystemEvents(3);

  const append: grpc.handleClientStreamingCall<StreamsPb.AppendReq, StreamsPb.AppendResp> = (call, callback) => {
    calls.append += 1;
    let options: StreamsPb.AppendReq.Options | undefined;
    const proposed: Omit<LoggedEvent, 'streamId' | 'revision' | 'position' | 'created'>[] = [];
    call.on('data', (request: StreamsPb.AppendReq) => {
      if (request.hasOptions()) options = request.getOptions();
      const message = request.getProposedMessage();
      if (message) {
        const metadata = message.getMetadataMap();
        proposed.push({
          id: uuidText(message.getId()),
          type: metadata.get('type') ?? '',
          contentType: metadata.get('content-type') ?? 'application/octet-stream',
          data: bytesOf(message.getData()),
          customMetadata: bytesOf(message.getCustomMetadata()),
        });
      }
    });
    call.on('error', () => {});
    call.on('end', () => {
      if (!options) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'append without options' });
      const streamId = text(options.getStreamIdentifier()?.getStreamName() ?? '');
      const stream = streams.get(streamId) ?? [];
      const current = stream.length - 1;
      const success = (revision: number, position: bigint) =>
        callback(
          null,
          new AppendResp().setSuccess(
            new AppendResp.Success()
              .setCurrentRevision(String(revision))
              .setPosition(new AppendResp.Position().setCommitPosition(position.toString()).setPreparePosition(position.toString())),
          ),
        );
      const wrong = () => {
        const details = new AppendResp.WrongExpectedVersion();
        if (current < 0) details.setCurrentNoStream(new Empty());
        else details.setCurrentRevision(String(current));
        if (options!.hasRevision()) details.setExpectedRevision(options!.getRevision());
        else if (options!.hasNoStream()) details.setExpectedNoStream(new Empty());
        else if (options!.hasStreamExists()) details.setExpectedStreamExists(new Empty());
        else details.setExpectedAny(new Empty());
        callback(null, new AppendResp().setWrongExpectedVersion(details));
      };
      // Idempotency: the same ids where the expected revision says they would have gone
      // (or, with any/stream_exists, where the first of them is) were written already.
      const sameIdsFrom = (start: number) =>
        start >= 0 && proposed.length > 0 && proposed.every((p, i) => stream[start + i]?.id === p.id);
      const expected = options.hasRevision() ? Number(options.getRevision()) : options.hasNoStream() ? -1 : null;
      const firstAt = proposed.length > 0 ? stream.findIndex((e) => e.id === proposed[0]!.id) : -1;
      const from = expected !== null ? expected + 1 : firstAt;
      if (sameIdsFrom(from)) {
        const last = stream[from + proposed.length - 1]!;
        return success(last.revision, last.position);
      }
      if (expected !== null && expected !== current) return wrong();
      if (options.hasStreamExists() && current < 0) return wrong();
      if (proposed.length === 0) return success(current, nextPosition);
      const written = write(streamId, proposed);
      // The server writes its own events between the clients' ($stats every so often).
      if (calls.append % 7 === 0) writeSystemEvents(1);
      const last = written.at(-1)!;
      return success(last.revision, last.position);
    });
  };

  const read: grpc.handleServerStreamingCall<StreamsPb.ReadReq, StreamsPb.ReadResp> = (call) => {
    const options = call.request.getOptions();
    if (!options) return void call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'read without options' });
    const structuredIds = options.getUuidOption()?.hasStructured() ?? false;
    const backwards = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS;
    const count = options.hasCount() ? Number(BigInt.asUintN(53, BigInt(options.getCount()))) : Number.MAX_SAFE_INTEGER;
    const filter = filterOf(options);
    if (options.hasStream()) {
      calls.read += 1;
      const streamOptions = options.getStream()!;
      const streamId = text(streamOptions.getStreamIdentifier()?.getStreamName() ?? '');
      const stream = streams.get(streamId);
      if (!stream) {
        call.write(new ReadResp().setStreamNotFound(new ReadResp.StreamNotFound().setStreamIdentifier(new StreamIdentifier().setStreamName(Buffer.from(streamId)))));
        return call.end();
      }
      const from = streamOptions.hasRevision() ? Number(streamOptions.getRevision()) : streamOptions.hasEnd() ? (backwards ? stream.length - 1 : stream.length) : backwards ? stream.length - 1 : 0;
      const picked = backwards ? stream.slice(0, Math.max(0, from + 1)).reverse() : stream.slice(from);
      for (const event of picked.slice(0, count)) call.write(toRecorded(event, structuredIds));
      return call.end();
    }
    const all = options.getAll()!;
    const position = all.hasPosition() ? BigInt(all.getPosition()!.getCommitPosition()) : all.hasEnd() ? nextPosition : backwards ? nextPosition : 0n;
    if (options.hasSubscription()) {
      calls.subscribe += 1;
      call.write(new ReadResp().setConfirmation(new ReadResp.SubscriptionConfirmation().setSubscriptionId(crypto.randomUUID())));
      // Catch-up and going live happen in one turn of the event loop: nothing appended in between is missed.
      const after = all.hasStart() ? -1n : position;
      for (const event of log) if (event.position > after && filter(event)) call.write(toRecorded(event, structuredIds));
      call.write(new ReadResp().setCaughtUp(new ReadResp.CaughtUp()));
      const subscriber: Live = { call, filter, structuredIds };
      live.add(subscriber);
      call.on('cancelled', () => live.delete(subscriber));
      call.on('close', () => live.delete(subscriber));
      return;
    }
    calls.read += 1;
    // $all reads: forwards from a position include it, backwards stop before it.
    const picked = backwards ? log.filter((e) => e.position < position).reverse() : log.filter((e) => e.position >= position);
    let sent = 0;
    for (const event of picked) {
      if (sent >= count) break;
      if (!filter(event)) continue;
      call.write(toRecorded(event, structuredIds));
      sent += 1;
    }
    call.end();
  };

  const server = new grpc.Server();
  server.addService(streamsGrpc.StreamsService, { read, append } as unknown as grpc.UntypedServiceImplementation);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );

  return {
    url: `kurrentdb://127.0.0.1:${bound}?tls=false`,
    port: bound,
    calls,
    writeSystemEvents,
    dropSubscriptions() {
      const dropped = live.size;
      for (const subscriber of [...live]) {
        live.delete(subscriber);
        // grpc-js ends a server call with the status of an error emitted on it.
        subscriber.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'connection dropped by the test double' });
      }
      return dropped;
    },
    async stop() {
      for (const subscriber of live) subscriber.call.end();
      live.clear();
      server.forceShutdown();
    },
  };
}

