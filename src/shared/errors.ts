/**
 * Typed errors. Route and domain code throw these; one error handler turns every
 * one of them into application/problem+json (RFC 9457). Nobody builds an error body by hand.
 */
export interface FieldError {
  field: string;
  reason: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    /** Short stable slug, used in the problem `type` URI: /problems/<code>. */
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A domain rule refused the command. Deciders throw subclasses of this. */
export class DomainError extends AppError {
  constructor(status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
    super(status, code, message, extra);
  }
}

export class ValidationFailed extends AppError {
  constructor(readonly errors: FieldError[], message = 'The request is not valid.') {
    super(400, 'validation', message, { errors });
  }
}

export class NotFound extends DomainError {
  constructor(what: string, id: string) {
    super(404, 'not-found', `${what} ${id} does not exist.`, { resource: what, id });
  }
}

export class AlreadyExists extends DomainError {
  constructor(what: string, id: string, field?: string) {
    super(409, 'already-exists', `${what} ${id} already exists.`, {
      resource: what,
      id,
      ...(field ? { errors: [{ field, reason: `${what} ${id} already exists` }] } : {}),
    });
  }
}

/** A rule of the domain, such as "stock never goes negative", refused the command. */
export class RuleViolated extends DomainError {
  constructor(code: string, message: string, extra: Record<string, unknown> = {}) {
    super(409, code, message, extra);
  }
}

export class Unauthorized extends AppError {
  constructor(message = 'Authentication is required.') {
    super(401, 'unauthorized', message);
  }
}

export class Forbidden extends AppError {
  constructor(message = 'You may not do this.') {
    super(403, 'forbidden', message);
  }
}

/** The caller's If-Match, or a racing writer, saw another version of the resource. */
export class VersionConflict extends AppError {
  constructor(streamId: string, readonly currentRevision: number) {
    super(409, 'version-conflict', `The resource has changed; its current version is ${currentRevision}.`, {
      revision: currentRevision,
      stream: streamId,
    });
  }
}
