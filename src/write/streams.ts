// Stream names are shared with the read side (history, audit, as-of): they live in src/shared.
export * from '../shared/streams.js';
