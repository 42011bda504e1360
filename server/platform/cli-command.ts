import type { Config } from '../config.js';
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
