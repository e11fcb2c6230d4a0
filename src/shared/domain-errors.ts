/**
 * Refusals specific to Stockroom's rules. They extend the generic classes of errors.ts,
 * so the one error handler maps them to problem+json without knowing them by name.
 */
import { AlreadyExists, DomainError, RuleViolated, type FieldError } from './errors.js';

/**
 * A value on the command is well formed but breaks a rule of the domain (422), named
 * field by field like a validation error so that a form can show it beside the input.
 */
export class InvalidValue extends DomainError {
  readonly errors: FieldError[];

  constructor(field: string, reason: string, code = 'invalid-value') {
    const errors = [{ field, reason }];
    super(422, code, `${field} ${reason}.`, { errors });
    this.errors = errors;
  }
}

/** An adjustment whose sign contradicts its reason ("sold" with +3), or that moves nothing. */
export class InvalidDelta extends InvalidValue {
  constructor(reason: string) {
    super('delta', reason, 'invalid-delta');
  }
}

/**
 * A partial update that names no field at all. Refused rather than ignored: it is almost
 * always a client bug, and a silent 200 would hide it. (Naming fields with their current
 * values is fine and writes nothing.)
 */
export class NothingToChange extends DomainError {
  constructor(fields: readonly string[]) {
    const reason = `give at least one of ${fields.join(', ')}`;
    super(422, 'nothing-to-change', `Nothing to change: ${reason}.`, {
      errors: fields.map((field) => ({ field, reason })),
    });
  }
}

/**
 * A demotion or deletion that would leave no manager: no one could manage users or stores
 * again short of the operator's way back (`npm run users:restore-manager`).
 */
export class LastManager extends RuleViolated {
  constructor(userId: string) {
    super('last-manager', `User ${userId} is the last manager; make another user a manager first.`, { userId });
  }
}

/** Stock never goes negative: the one rule every interleaving of commands must keep. */
export class InsufficientStock extends RuleViolated {
  constructor(
    readonly available: number,
    readonly requested: number,
  ) {
    super('insufficient-stock', `Only ${available} in stock; ${requested} requested.`, { available, requested });
  }
}

export class StoreIsClosed extends RuleViolated {
  constructor(storeId: string) {
    super('store-closed', `Store ${storeId} is closed.`, { storeId });
  }
}

/** Stock can only be added to a store that is open (it exists and was not closed). */
export class StoreNotOpen extends RuleViolated {
  constructor(storeId: string) {
    super('store-not-open', `Store ${storeId} is not open.`, { storeId });
  }
}

/** Still an AlreadyExists (409) for generic handling, with its own code for clients. */
export class ItemAlreadyInStore extends AlreadyExists {
  override readonly code = 'item-already-in-store';

  constructor(storeId: string, skuId: string) {
    super('stock item', `${storeId}/${skuId}`, 'skuId');
    this.message = `SKU ${skuId} is already stocked in store ${storeId}.`;
  }
}
