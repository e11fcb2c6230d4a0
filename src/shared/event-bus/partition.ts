/**
 * The partition a stream's events go to: murmur2 of the stream id, as the Java client and
 * kafkajs's DefaultPartitioner compute it (`(murmur2(key) & 0x7fffffff) % partitions`).
 * A reader uses it to wait for the one partition that carries a stream.
 */
export function partitionOf(streamId: string, partitions: number): number {
  return (murmur2(Buffer.from(streamId, 'utf8')) & 0x7fffffff) % partitions;
}

const M = 0x5bd1e995;

/** Kafka's murmur2 (clients/.../utils/Utils.java), in 32-bit integer arithmetic. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length % 4;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}
