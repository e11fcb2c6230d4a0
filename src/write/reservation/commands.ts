/**
 * One reservation stream per value (a username, a SKU code). The owner is the id of the
 * user or SKU that holds the value.
 */
export interface Reserve {
  type: 'Reserve';
  value: string;
  ownerId: string;
  /** The request field the value came from ('username', 'code'), named when it is taken. */
  field: string;
}

export interface Release {
  type: 'Release';
  ownerId: string;
}

export type ReservationCommand = Reserve | Release;
