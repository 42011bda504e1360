import type { Config } from '../config.js';
import { ValidationError, type FieldError } from './errors.js';
import type { Services } from '../services.js';

/** The parsed options of one CLI command (node:util parseArgs). */
export type CliValues = Record<string, string | boolean | undefined>;

/** One command of server/cli.ts; capabilities (retention, privacy) declare theirs in their own folder. */
export interface CliCommand {
  usage: string;
  options: Record<string, { type: 'string' | 'boolean' }>;
  run?(s: Services, values: CliValues): Promise<string | void>;
  /** Checks the options before the database is opened (throws ValidationError). */
  check?(values: CliValues): unknown;
  /**
   * A client of a running service: runs without opening the database here,
   * since that service may hold the embedded one (one process at a time).
   */
  client?(values: CliValues, config: Config): Promise<string | void>;
}

/**
 * Runs a parse shared with the web (a zod schema whose messages are locale
 * keys) and, when it refuses, says each field's problem in the CLI's own
 * words: the option that is wrong and what it takes.
 */
export function inCliWords<T>(parse: () => T, message: (f: FieldError) => string): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(err.fields.map((f) => ({ ...f, message: message(f) })));
  }
}
