import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config.js';
import { maskPersonnummer } from '../privacy/personnummer.js';

export type { Logger };

/**
 * The service's log. Logs are read by more people, and kept longer, than the
 * case view: every personnummer and samordningsnummer in a line is masked,
 * wherever it sits (the message, a logged value, an error's message or stack,
 * a child logger's bindings). The mask runs on the finished line, the one
 * place all of those meet, and it is one scan that only calls the check-digit
 * test on runs of 10 or 12 digits, so it costs little. `destination`: where
 * lines go (standard output by default; a test passes its own stream).
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = {
    level: config.logLevel,
    base: { service: 'servicecenter' },
    redact: {
      paths: ['req.headers.cookie', 'req.headers.authorization', 'password', '*.password', 'token', '*.token'],
      censor: '[redacted]',
    },
    hooks: { streamWrite: maskPersonnummer },
  };
  return destination ? pino(options, destination) : pino(options);
}
