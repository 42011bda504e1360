import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Config } from '../config.js';
import type { Logger } from '../platform/logger.js';
import type { InboundStore } from './inbound-store.js';

/** An SMTP answer with its code, as smtp-server expects errors to carry it. */
function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/**
 * The service center's mail intake over SMTP. The municipality's mail system
 * routes or forwards the intake addresses here. A message is answered 250 only
 * after it is stored raw in the database; if that fails the answer is 451 so
 * the sender keeps it and tries again. Processing happens later (onStored).
 */
export function createSmtpListener(deps: { config: Pick<Config, 'intake'>; store: InboundStore; onStored: () => void; logger: Logger }) {
  const { config, store, onStored, logger } = deps;
  const intake = config.intake;
  const addresses = new Set(intake.addresses);
  const tls = intake.tls ? { key: readFileSync(intake.tls.keyFile), cert: readFileSync(intake.tls.certFile) } : undefined;

  const server = new SMTPServer({
    banner: 'Servicecenter mail intake',
    size: intake.maxMailBytes,
    authOptional: true,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!addresses.has(address.address.toLowerCase())) {
        return callback(smtpError(550, `5.1.1 <${address.address}>: no such mailbox here`));
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Past the limit nothing more is kept; the answer below is 552.
        if (size <= intake.maxMailBytes) chunks.push(chunk);
      });
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        if (stream.sizeExceeded || size > intake.maxMailBytes) {
          return callback(smtpError(552, `5.3.4 Message too big: the limit is ${intake.maxMailBytes} bytes`));
        }
        const raw = Buffer.concat(chunks);
        const recipient = session.envelope.rcptTo.map((r) => r.address.toLowerCase()).find((a) => addresses.has(a)) ?? intake.addresses[0]!;
        // An empty return path (<>) marks a bounce or other system mail: kept as ''.
        const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address.toLowerCase() : '';
        store
          .store({ source: 'smtp', recipient, envelopeFrom, raw })
          .then(({ duplicate }) => {
            if (duplicate) logger.info({ recipient }, 'duplicate delivery accepted and ignored');
            callback(null, duplicate ? 'Already received, thank you' : 'Received, thank you');
            if (!duplicate) onStored();
          })
          .catch((err: unknown) => {
            logger.error({ err }, 'could not store an incoming message; answered 451');
            callback(smtpError(451, '4.3.0 Temporary failure storing the message, please try again later'));
          });
      });
    },
  });
  server.on('error', (err) => logger.warn({ err }, 'SMTP intake connection error'));

  return {
    server,
    async listen(port = intake.smtpPort, host = intake.smtpHost): Promise<number> {
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(port, host, () => {
          server.server.off('error', reject);
          resolve();
        });
      });
      return (server.server.address() as AddressInfo).port;
    },
    close(): Promise<void> {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export type SmtpListener = ReturnType<typeof createSmtpListener>;
