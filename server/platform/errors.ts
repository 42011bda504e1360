/**
 * Errors that services throw and the HTTP layer turns into answers. A service
 * never knows about HTTP; it only says what went wrong.
 */
export class AppError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface FieldError {
  field: string;
  /** A locale key, so pages can show the message in the reader's language. */
  code: string;
  message: string;
  /** Values for the message's placeholders, such as a maximum length. */
  params?: Record<string, string>;
}

export class ValidationError extends AppError {
  constructor(readonly fields: FieldError[]) {
    super(`Invalid input: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, 400, 'validation_failed');
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found') {
    super(message, 404, 'not_found');
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') {
    super(message, 409, code);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Forbidden') {
    super(message, 403, 'forbidden');
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required') {
    super(message, 401, 'unauthorized');
  }
}

export class TooManyRequestsError extends AppError {
  constructor(message = 'Too many requests') {
    super(message, 429, 'rate_limited');
  }
}
