import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type AppendRequest, AppendBatcher, type AppendTransport } from '../../src/shared/event-store/postgres/append-batcher.js';

const test = suite('append batcher: group commit without a timer');

/** A transport whose trips end when the test says; it records what each trip carried. */
function heldTransport(failMany = false) {
  const trips: { kind: 'one' | 'many'; streams: string[] }[] = [];
  const waiting: (() => void)[] = [];
  const hold = () => new Promise<void>((resolve) => waiting.push(resolve));
  const transport: AppendTransport = {
    async one(request) {
      trips.push({ kind: 'one', streams: [request.streamId] });
      await hold();
      if (request.payload === 'bad') throw new Error(`bad payload for ${request.streamId}`);
      return { stream: request.streamId };
    },
    async many(requests) {
      trips.push({ kind: 'many', streams: requests.map((r) => r.streamId) });
      await hold();
      if (failMany || requests.some((r) => r.payload === 'bad')) throw new Error('the call failed');
      return requests.map((r) => ({ stream: r.streamId }));
    },
  };
  /** Lets every trip out now end, then lets the batcher send the next ones. */
  const release = async () => {
    for (const resolve of waiting.splice(0)) resolve();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { transport, trips, release };
}

const request = (streamId: string, payload = '[]'): AppendRequest => ({ streamId, expected: 0, payload });

test('an append with a free trip leaves at once, alone', async () => {
  const { transport, trips, release } = heldTransport();
  const batcher = new AppendBatcher(transport, { maxInFlight: 2, maxBatch: 50 });
  const a = batcher.append(request('a'));
  const b = batcher.append(request('b'));
  assert.equal(trips, [{ kind: 'one', streams: ['a'] }, { kind: 'one', streams: ['b'] }]);
  await release();
  assert.equal(await Promise.all([a, b]), [{ stream: 'a' }, { stream: 'b' }]);
});

test('appends arriving while every trip is out leave together when one comes back, sorted by stream', async () => {
  const { transport, trips, release } = heldTransport();
  const batcher = new AppendBatcher(transport, { maxInFlight: 1, maxBatch: 3 });
  const all = ['first', 'c', 'a', 'b', 'a', 'd'].map((stream) => batcher.append(request(stream)));
  assert.is(trips.length, 1);
  await release();
  assert.equal(trips[1], { kind: 'many', streams: ['a', 'b', 'c'] }, 'at most maxBatch, in stream order');
  await release();
  assert.equal(trips[2], { kind: 'many', streams: ['a', 'd'] });
  await release();
  assert.equal(await Promise.all(all), ['first', 'c', 'a', 'b', 'a', 'd'].map((stream) => ({ stream })), 'each caller gets its own row');
});

test('a failed call is sent again one append per trip: the error stays with its append', async () => {
  const { transport, trips, release } = heldTransport();
  const batcher = new AppendBatcher(transport, { maxInFlight: 1, maxBatch: 50 });
  const lead = batcher.append(request('lead'));
  const good = batcher.append(request('good'));
  const bad = batcher.append(request('bad', 'bad')).then(
    () => null,
    (error: unknown) => error,
  );
  await release();
  await release();
  await release();
  assert.equal(await lead, { stream: 'lead' });
  assert.equal(await good, { stream: 'good' });
  assert.match(String(await bad), /bad payload for bad/);
  assert.equal(trips.map((trip) => trip.kind), ['one', 'many', 'one', 'one']);
  assert.equal(batcher.stats, { trips: 4, appends: 2, fallbacks: 1, overlapped: 0 });
});

test('a lone writer never queues behind its own finished trip', async () => {
  const { transport, trips, release } = heldTransport();
  const batcher = new AppendBatcher(transport, { maxInFlight: 1, maxBatch: 50 });
  for (let i = 0; i < 3; i += 1) {
    const pending = batcher.append(request(`s${i}`));
    await release();
    await pending;
  }
  assert.equal(trips.map((trip) => trip.kind), ['one', 'one', 'one']);
});

test("extra trips 'when-matched': a second trip leaves only once the appends waiting are as many as the trip under way", async () => {
  const { transport, trips, release } = heldTransport();
  const batcher = new AppendBatcher(transport, { maxInFlight: 2, maxBatch: 50, extraTrips: 'when-matched' });
  const first = batcher.append(request('first'));
  const second = batcher.append(request('c'));
  assert.equal(trips, [{ kind: 'one', streams: ['first'] }, { kind: 'one', streams: ['c'] }], 'one waiting beside a trip of one: it leaves');
  const two = ['b', 'a'].map((stream) => batcher.append(request(stream)));
  await release();
  assert.equal(trips[2], { kind: 'many', streams: ['a', 'b'] }, 'the trips back, the two waiting leave together');
  const d = batcher.append(request('d'));
  assert.is(trips.length, 3, 'one waiting beside a trip of two: it waits');
  const e = batcher.append(request('e'));
  assert.equal(trips[3], { kind: 'many', streams: ['d', 'e'] }, 'two waiting beside a trip of two: they leave');
  await release();
  assert.equal(await Promise.all([first, second, ...two, d, e]), ['first', 'c', 'b', 'a', 'd', 'e'].map((stream) => ({ stream })));
  assert.equal(batcher.stats, { trips: 4, appends: 6, fallbacks: 0, overlapped: 3 });
});

test('the default sends an extra trip at once, however few it carries', async () => {
  const { transport, trips, release } = heldTransport();
  const batcher = new AppendBatcher(transport, { maxInFlight: 2, maxBatch: 50 });
  const all = ['a', 'b', 'c', 'd'].map((stream) => batcher.append(request(stream)));
  await release();
  const e = batcher.append(request('e'));
  assert.equal(trips.map((trip) => trip.streams), [['a'], ['b'], ['c', 'd'], ['e']]);
  await release();
  await Promise.all([...all, e]);
});

test.run();
