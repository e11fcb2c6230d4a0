/** One thing verify found that does not agree with the events. */
export interface Difference {
  stream: string;
  /** `event store`, `postgres:<table>` or `redis`. */
  model: string;
  field: string;
  expected: unknown;
  found: unknown;
  revision?: number;
  position?: string;
  eventId?: string;
  detail?: string;
}

export const describeDifference = (difference: Difference): string =>
  `${difference.model} ${difference.stream}${difference.revision !== undefined ? ` revision ${difference.revision}` : ''}: ${difference.field} expected ${JSON.stringify(difference.expected)}, found ${JSON.stringify(difference.found)}${difference.detail ? ` (${difference.detail})` : ''}`;
