import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';

/** Sends a raw message over real SMTP; answers the server's reply code (250 on success). */
export async function deliver(port: number, raw: string | Buffer, envelope: { from: string; to: string[] }): Promise<{ code: number; response: string }> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: false });
  try {
    const info = await transport.sendMail({ envelope, raw });
    return { code: Number(/^(\d{3})/.exec(info.response)?.[1] ?? 0), response: info.response };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string; message: string };
    return { code: e.responseCode ?? 0, response: e.response ?? e.message };
  } finally {
    transport.close();
  }
}

export const INTAKE = 'kontaktcenter@borlange.example';

export function plainMail(o: { from: string; subject: string; body: string; messageId?: string; headers?: string }): string {
  return [
    `From: ${o.from}`,
    `To: ${INTAKE}`,
    `Subject: ${o.subject}`,
    `Date: Sat, 28 Nov 2026 10:00:00 +0100`,
    `Message-ID: <${o.messageId ?? `${randomBytes(8).toString('hex')}@mail.example.com`}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    ...(o.headers ? [o.headers] : []),
    '',
    o.body,
    '',
  ].join('\r\n');
}
