import net from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { parseMail, type ParsedMail } from '../fixtures/mail.js';

/** A real SMTP relay on a local port that keeps what it is given (or refuses it with a 451). */
export interface Relay {
  port: number;
  url: string;
  messages: { from: string; to: string[]; raw: Buffer; mail: ParsedMail }[];
  /** While true, every message is refused with "451 try again later". */
  refuse: boolean;
  /** While set, the relay keeps each message's DATA unanswered until the promise settles. */
  hold?: Promise<void>;
  /** How many messages are waiting on `hold` right now. */
  held: number;
  /** Milliseconds to wait before answering each message's DATA (a slow relay). */
  delayMs: number;
  close(): Promise<void>;
}

export async function startRelay(): Promise<Relay> {
  const relay = { messages: [], refuse: false, held: 0, delayMs: 0 } as unknown as Relay;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (relay.hold) {
          relay.held++;
          await relay.hold;
          relay.held--;
        }
        if (relay.delayMs) await new Promise((r) => setTimeout(r, relay.delayMs));
        if (relay.refuse) {
          callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        relay.messages.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw, mail: parseMail(raw) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  relay.port = (server.server.address() as net.AddressInfo).port;
  relay.url = `smtp://127.0.0.1:${relay.port}`;
  relay.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return relay;
}

/** A port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
