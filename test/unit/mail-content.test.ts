import { strict as assert } from 'node:assert';
import {
  MailParseError,
  parseInbound,
  REFERENCE_PATTERN,
  referencesInSubject,
  sanitizeMailHtml,
  splitQuoted,
} from '../../server/intake/mail-content.js';

// Raw messages are built here, line by line, with CRLF line endings. Header and
// body strings are turned into bytes with `latin1` (one byte per character), so
// 8-bit bodies in a legacy charset can be written as the bytes they are.

function message(headers: string[], body: string | Buffer): Buffer {
  const head = Buffer.from(headers.join('\r\n') + '\r\n\r\n', 'latin1');
  const tail = typeof body === 'string' ? Buffer.from(body.replace(/\r?\n/g, '\r\n'), 'latin1') : body;
  return Buffer.concat([head, tail]);
}

function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

const WIN1252: Record<string, number> = { '€': 0x80, '‚': 0x82, '„': 0x84, '…': 0x85, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '–': 0x96, '—': 0x97 };

function windows1252(text: string): Buffer {
  return Buffer.from(Array.from(text, (ch) => WIN1252[ch] ?? ch.charCodeAt(0)));
}

const base = [
  'From: Anna Andersson <Anna.Andersson@Example.SE>',
  'To: Servicecenter <SC@Borlange.Example>',
  'Date: Tue, 3 Mar 2026 10:15:00 +0100',
];

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  };
}

describe('mail content: parseInbound', () => {
  it('reads headers and picks the plain part of multipart/alternative', async () => {
    const raw = message(
      [
        'From: =?UTF-8?Q?Bj=C3=B6rn_=C3=85str=C3=B6m?= <Bjorn.Astrom@Example.SE>',
        'Reply-To: Björn Privat <BJORN@privat.example>',
        'To: "Servicecenter" <SC@Borlange.Example>, undisclosed-recipients:;',
        'Cc: Kalle <KALLE@example.se>, kalle@example.se',
        'Subject: Re: [SC-2026-000123] Fråga',
        'Date: Tue, 3 Mar 2026 10:15:00 +0100',
        'Message-ID: <CAF=abc123@mail.example.se>',
        'In-Reply-To: <sc.1.2@borlange.example>',
        'References: <first@example.se>',
        ' <sc.1.2@borlange.example> (comment)',
        'MIME-Version: 1.0',
        'Content-Type: multipart/alternative; boundary="ALT"',
      ],
      [
        '--ALT',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        'Hej!',
        'Texten är här.',
        '--ALT',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<p>Hej!</p><p onclick="x()">Texten är <b>här</b>.</p>',
        '--ALT--',
        '',
      ].join('\n'),
    );
    // The strings above hold UTF-8 text: re-encode the body accordingly.
    const utf8 = Buffer.from(raw.toString('latin1'), 'utf8');
    const mail = await parseInbound(utf8);
    assert.equal(mail.messageId, 'CAF=abc123@mail.example.se');
    assert.deepEqual(mail.inReplyTo, ['sc.1.2@borlange.example']);
    assert.deepEqual(mail.references, ['first@example.se', 'sc.1.2@borlange.example']);
    assert.deepEqual(mail.from, { address: 'bjorn.astrom@example.se', name: 'Björn Åström' });
    assert.equal(mail.replyTo, 'bjorn@privat.example');
    assert.deepEqual(mail.to, ['sc@borlange.example']);
    assert.deepEqual(mail.cc, ['kalle@example.se']);
    assert.equal(mail.subject, 'Re: [SC-2026-000123] Fråga');
    assert.equal(mail.date?.toISOString(), '2026-03-03T09:15:00.000Z');
    assert.equal(mail.text, 'Hej!\nTexten är här.');
    assert.equal(mail.html, '<p>Hej!</p><p>Texten är <b>här</b>.</p>');
    assert.equal(mail.hasRemoteImages, false);
    assert.deepEqual(mail.attachments, []);
    assert.deepEqual(mail.classification, { autoReply: false, bulk: false, fromSystem: false, bounce: null, suppressAcknowledgement: false });
  });

  it('decodes an 8-bit ISO-8859-1 body', async () => {
    const raw = message(
      [...base, 'Subject: Bygglov', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=ISO-8859-1', 'Content-Transfer-Encoding: 8bit'],
      Buffer.from('Hej! Jag undrar över bygglovet för min altan.\r\nMvh Åsa\r\n', 'latin1'),
    );
    const mail = await parseInbound(raw);
    assert.equal(mail.text, 'Hej! Jag undrar över bygglovet för min altan.\nMvh Åsa');
    assert.equal(mail.html, null);
  });

  it('decodes Windows-1252 with € and typographic quotes', async () => {
    const raw = message(
      [...base, 'Subject: Avgift', 'Content-Type: text/plain; charset="windows-1252"', 'Content-Transfer-Encoding: 8bit'],
      windows1252('Avgiften är 1 200 € för ”Tillbyggnad” – stämmer det?\r\n'),
    );
    const mail = await parseInbound(raw);
    assert.equal(mail.text, 'Avgiften är 1 200 € för ”Tillbyggnad” – stämmer det?');
  });

  it('decodes quoted-printable (ISO-8859-1 text and UTF-8 HTML)', async () => {
    const raw = message(
      [...base, 'Subject: QP', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary=b1'],
      crlf(
        [
          '--b1',
          'Content-Type: text/plain; charset=iso-8859-1',
          'Content-Transfer-Encoding: quoted-printable',
          '',
          'Jag har en fr=E5ga om f=F6rskolan i Domn=E4rvet, en l=E5ng rad som bryts h=',
          '=E4r.',
          '--b1',
          'Content-Type: text/html; charset=utf-8',
          'Content-Transfer-Encoding: quoted-printable',
          '',
          '<p style=3D"color:red">Jag har en fr=C3=A5ga</p>',
          '--b1--',
          '',
        ].join('\n'),
      ),
    );
    const mail = await parseInbound(raw);
    assert.equal(mail.text, 'Jag har en fråga om förskolan i Domnärvet, en lång rad som bryts här.');
    assert.equal(mail.html, '<p>Jag har en fråga</p>');
  });

  it('decodes a base64 UTF-8 body', async () => {
    const body = Buffer.from('Hej,\nmin adress är Storgatan 1, 784 33 Borlänge.\n', 'utf8').toString('base64');
    const raw = message([...base, 'Subject: Adress', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'], body + '\r\n');
    const mail = await parseInbound(raw);
    assert.equal(mail.text, 'Hej,\nmin adress är Storgatan 1, 784 33 Borlänge.');
  });

  it('decodes RFC 2047 subjects and puts them on one trimmed line of at most 300 characters', async () => {
    const q = await parseInbound(message([...base, 'Subject: =?ISO-8859-1?Q?Fr=E5ga_om_f=F6rskola?='], 'x\r\n'));
    assert.equal(q.subject, 'Fråga om förskola');

    const b64 = Buffer.from('Ärende: vägbelysning på Sörbo', 'utf8').toString('base64');
    const b = await parseInbound(message([...base, `Subject: =?UTF-8?B?${b64}?=`], 'x\r\n'));
    assert.equal(b.subject, 'Ärende: vägbelysning på Sörbo');

    const folded = await parseInbound(
      message([...base, 'Subject:   =?UTF-8?Q?R=C3=A4kning?=\r\n  =?UTF-8?Q?_med_tabb=09och=0D=0Aradbrytning?=   '], 'x\r\n'),
    );
    assert.equal(folded.subject, 'Räkning med tabb och radbrytning');

    const long = await parseInbound(message([...base, `Subject: =?UTF-8?Q?L=C3=A5ng_rubrik?= ${'x'.repeat(400)}`], 'x\r\n'));
    assert.equal(long.subject, `Lång rubrik ${'x'.repeat(288)}`);

    const none = await parseInbound(message(['From: a@example.se'], 'x\r\n'));
    assert.equal(none.subject, '');
    assert.equal(none.date, null);
    assert.equal(none.messageId, null);
    assert.deepEqual(none.references, []);
    assert.deepEqual(none.inReplyTo, []);
  });

  it('gives a null date for an unparseable Date header', async () => {
    const mail = await parseInbound(message(['From: a@example.se', 'Date: igår eftermiddag', 'Subject: x'], 'x\r\n'));
    assert.equal(mail.date, null);
  });

  it('keeps an inline image with its Content-ID and the cid: link in the HTML', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const raw = message(
      [...base, 'Subject: Bild', 'MIME-Version: 1.0', 'Content-Type: multipart/related; boundary="REL"'],
      crlf(
        [
          '--REL',
          'Content-Type: text/html; charset=utf-8',
          '',
          '<p>Se bilden:</p><img src="cid:skylt.1@example.se" alt="Skylt">',
          '--REL',
          'Content-Type: image/png; name="skylt.png"',
          'Content-Transfer-Encoding: base64',
          'Content-ID: <skylt.1@example.se>',
          'Content-Disposition: inline; filename="skylt.png"',
          '',
          png.toString('base64'),
          '--REL--',
          '',
        ].join('\n'),
      ),
    );
    const mail = await parseInbound(raw);
    assert.equal(mail.html, '<p>Se bilden:</p><img alt="Skylt" src="cid:skylt.1@example.se" />');
    assert.equal(mail.hasRemoteImages, false);
    assert.equal(mail.text, 'Se bilden:');
    assert.equal(mail.attachments.length, 1);
    const [image] = mail.attachments;
    assert.equal(image?.filename, 'skylt.png');
    assert.equal(image?.contentType, 'image/png');
    assert.equal(image?.contentId, 'skylt.1@example.se');
    assert.equal(image?.inline, true);
    assert.deepEqual(image?.content, png);
  });

  it('keeps an attachment with an RFC 2231 file name, not inline', async () => {
    const pdf = Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n', 'latin1');
    const raw = message(
      [...base, 'Subject: Ritning', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="MIX"'],
      crlf(
        [
          '--MIX',
          'Content-Type: text/plain; charset=utf-8',
          '',
          'Ritningen bifogas.',
          '--MIX',
          'Content-Type: application/pdf',
          'Content-Transfer-Encoding: base64',
          "Content-Disposition: attachment; filename*=utf-8''ritning%20v%C3%A5ning%202.pdf",
          '',
          pdf.toString('base64'),
          '--MIX--',
          '',
        ].join('\n'),
      ),
    );
    const mail = await parseInbound(raw);
    assert.equal(mail.text, 'Ritningen bifogas.');
    assert.equal(mail.attachments.length, 1);
    assert.deepEqual(
      mail.attachments.map((a) => ({ ...a, content: a.content.toString('latin1') })),
      [{ filename: 'ritning våning 2.pdf', contentType: 'application/pdf', content: pdf.toString('latin1'), contentId: null, inline: false }],
    );
  });

  it('keeps a nested message/rfc822 as an .eml attachment instead of flattening it', async () => {
    const inner = crlf(
      [
        'From: Granne <granne@example.se>',
        'To: anna.andersson@example.se',
        'Subject: Staketet',
        'Message-ID: <inner.1@example.se>',
        '',
        'Staketet står på min tomt.',
        '',
      ].join('\n'),
    );
    const build = (disposition: string | null) =>
      message(
        [...base, 'Subject: Fwd: Staketet', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="M"'],
        crlf(
          [
            '--M',
            'Content-Type: text/plain; charset=utf-8',
            '',
            'Se nedan.',
            '--M',
            'Content-Type: message/rfc822',
            ...(disposition ? [disposition] : []),
            '',
            inner,
            '--M--',
            '',
          ].join('\n'),
        ),
      );

    for (const disposition of [null, 'Content-Disposition: inline']) {
      const mail = await parseInbound(build(disposition));
      assert.equal(mail.text, 'Se nedan.');
      assert.equal(mail.attachments.length, 1);
      const [eml] = mail.attachments;
      assert.equal(eml?.filename, 'forwarded-message.eml');
      assert.equal(eml?.contentType, 'message/rfc822');
      assert.equal(eml?.inline, false);
      assert.match(eml?.content.toString('utf8') ?? '', /Subject: Staketet/);
    }
    const named = await parseInbound(build('Content-Disposition: attachment; filename="Staketet.eml"'));
    assert.equal(named.attachments[0]?.filename, 'Staketet.eml');
  });

  it('uses a text rendering of the HTML when there is no text part', async () => {
    const raw = message(
      [...base, 'Subject: Bara HTML', 'MIME-Version: 1.0', 'Content-Type: multipart/related; boundary="R"'],
      crlf(
        [
          '--R',
          'Content-Type: text/html; charset=utf-8',
          '',
          '<html><head><style>p{color:red}</style></head><body><p>Första stycket &amp; mer</p><ul><li>ett</li><li>två</li></ul><script>alert(1)</script></body></html>',
          '--R--',
          '',
        ].join('\n'),
      ),
    );
    const mail = await parseInbound(Buffer.from(raw.toString('latin1'), 'utf8'));
    assert.equal(mail.html, '<p>Första stycket &amp; mer</p><ul><li>ett</li><li>två</li></ul>');
    assert.equal(mail.text, 'Första stycket & mer\n\n- ett\n\n- två');
  });

  it('reads raw 8-bit Windows-1252 header fields (no RFC 2047) without replacement characters', async () => {
    const raw = Buffer.concat([
      windows1252('From: Åsa Öberg <ASA@example.se>\r\nSubject: Avgift 500 € för ”altan”\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'),
      Buffer.from('Brödtext i UTF-8.\r\n', 'utf8'),
    ]);
    const mail = await parseInbound(raw);
    assert.deepEqual(mail.from, { address: 'asa@example.se', name: 'Åsa Öberg' });
    assert.equal(mail.subject, 'Avgift 500 € för ”altan”');
    assert.equal(mail.text, 'Brödtext i UTF-8.');
  });

  it('renders links of an HTML-only message as "label <target>" in the text', async () => {
    const html = '<p>Läs <a href="https://www.borlange.se/bygglov">här</a> eller <a href="mailto:sc@borlange.example">mejla</a>.</p><p><a href="https://example.se/">https://example.se/</a> <a href="javascript:alert(1)">klicka</a></p>';
    const mail = await parseInbound(Buffer.from(message([...base, 'Subject: Länkar', 'Content-Type: text/html; charset=utf-8'], html).toString('latin1'), 'utf8'));
    assert.equal(mail.text, 'Läs här <https://www.borlange.se/bygglov> eller mejla <sc@borlange.example>.\n\nhttps://example.se/ klicka');
  });

  it('parses odd MIME best-effort: missing closing boundary, missing boundary parameter', async () => {
    const unterminated = await parseInbound(
      message([...base, 'Subject: Trasig', 'Content-Type: multipart/mixed; boundary="X"'], '--X\r\nContent-Type: text/plain\r\n\r\nInnehåll utan slut\r\n'),
    );
    assert.equal(unterminated.subject, 'Trasig');
    assert.match(unterminated.text, /Inneh/);

    const noBoundary = await parseInbound(message([...base, 'Subject: Ingen gräns', 'Content-Type: multipart/mixed'], 'Bara text\r\n'));
    assert.equal(noBoundary.subject, 'Ingen gräns');
    assert.equal(noBoundary.from?.address, 'anna.andersson@example.se');
  });
});

describe('mail content: MailParseError', () => {
  it('refuses an empty buffer', async () => {
    await assert.rejects(parseInbound(Buffer.alloc(0)), (e: unknown) => e instanceof MailParseError && /empty/.test(e.message));
  });

  it('refuses blank lines only', async () => {
    await assert.rejects(parseInbound(Buffer.from('\r\n\r\n\n')), MailParseError);
  });

  it('refuses random bytes without any header', async () => {
    const next = lcg(42);
    for (let round = 0; round < 20; round++) {
      const bytes = Buffer.from(Array.from({ length: 512 }, next));
      await assert.rejects(parseInbound(bytes), MailParseError, `round ${round}`);
    }
    await assert.rejects(parseInbound(Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a])), MailParseError);
  });

  it('refuses plain text with no header', async () => {
    await assert.rejects(parseInbound(Buffer.from('Hej, det här är inget mejl.\r\nBara text.\r\n')), (e: unknown) => e instanceof MailParseError && e.name === 'MailParseError');
  });

  it('accepts an mbox "From " line before the header', async () => {
    const mail = await parseInbound(Buffer.from('From anna@example.se Tue Mar  3 10:15:00 2026\r\nFrom: anna@example.se\r\nSubject: mbox\r\n\r\nx\r\n'));
    assert.equal(mail.subject, 'mbox');
  });
});

describe('mail content: classification', () => {
  const classify = async (headers: string[], body = 'Text\r\n', envelopeFrom?: string | null) =>
    (await parseInbound(message(headers, body), envelopeFrom)).classification;

  it('an ordinary message may be acknowledged', async () => {
    const c = await classify([...base, 'Subject: Fråga', 'Return-Path: <anna.andersson@example.se>'], 'Text\r\n', 'anna.andersson@example.se');
    assert.deepEqual(c, { autoReply: false, bulk: false, fromSystem: false, bounce: null, suppressAcknowledgement: false });
  });

  it('Auto-Submitted: auto-replied is an auto-reply', async () => {
    const c = await classify([...base, 'Subject: Frånvaro: Fråga', 'Auto-Submitted: auto-replied']);
    assert.equal(c.autoReply, true);
    assert.equal(c.suppressAcknowledgement, true);
  });

  it('Auto-Submitted: no is not', async () => {
    const c = await classify([...base, 'Subject: Fråga', 'Auto-Submitted: no']);
    assert.equal(c.autoReply, false);
    assert.equal(c.suppressAcknowledgement, false);
  });

  it('an Exchange "Automatic reply" with X-Auto-Response-Suppress is an auto-reply', async () => {
    const c = await classify([
      'From: Per Persson <per.persson@kommun.example>',
      'To: sc@borlange.example',
      'Subject: Automatic reply: [SC-2026-000123] Fråga',
      'Thread-Topic: [SC-2026-000123] Fråga',
      'X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent',
      'X-Auto-Response-Suppress: All',
      'X-MS-Has-Attach:',
    ]);
    assert.equal(c.autoReply, true);
    assert.equal(c.suppressAcknowledgement, true);
  });

  it('X-Auto-Response-Suppress alone: a person’s mail that wants no automatic answer, not an auto-reply', async () => {
    const c = await classify([...base, 'Subject: Begäran om handlingar', 'X-Auto-Response-Suppress: All']);
    assert.equal(c.autoReply, false);
    assert.equal(c.suppressAcknowledgement, true);
  });

  it('an auto-reply subject counts only with a known auto-reply header', async () => {
    const plain = await classify([...base, 'Subject: Autosvar: Fråga']);
    assert.equal(plain.autoReply, false);
    const outOfOffice = await classify([...base, 'Subject: Out of Office: hello']);
    assert.equal(outOfOffice.autoReply, false);
    const exchange = await classify([...base, 'Subject: Automatiskt svar: Fråga', 'X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent']);
    assert.equal(exchange.autoReply, true);
    const exchangeOrdinary = await classify([...base, 'Subject: Fråga', 'X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent']);
    assert.equal(exchangeOrdinary.autoReply, false);
  });

  it('X-Autoreply, X-Autorespond and Precedence: auto_reply are auto-replies', async () => {
    assert.equal((await classify([...base, 'Subject: x', 'X-Autoreply: yes'])).autoReply, true);
    assert.equal((await classify([...base, 'Subject: x', 'X-Autorespond: Frånvaro'])).autoReply, true);
    assert.equal((await classify([...base, 'Subject: x', 'Precedence: auto_reply'])).autoReply, true);
  });

  it('mailing-list and bulk mail is bulk', async () => {
    const list = await classify([...base, 'Subject: Nyhetsbrev', 'List-Id: Nyheter <nyheter.lists.example.se>', 'List-Unsubscribe: <mailto:leave@lists.example.se>']);
    assert.equal(list.bulk, true);
    assert.equal(list.autoReply, false);
    assert.equal(list.suppressAcknowledgement, true);
    assert.equal((await classify([...base, 'Subject: x', 'Precedence: bulk'])).bulk, true);
    assert.equal((await classify([...base, 'Subject: x', 'Precedence: junk'])).bulk, true);
    assert.equal((await classify([...base, 'Subject: x', 'Precedence: list'])).bulk, true);
    assert.equal((await classify([...base, 'Subject: x', 'List-Unsubscribe: <https://example.se/u>'])).bulk, true);
  });

  it('an empty Return-Path, a null envelope sender, MAILER-DAEMON and postmaster are system senders', async () => {
    assert.equal((await classify([...base, 'Subject: x', 'Return-Path: <>'])).fromSystem, true);
    assert.equal((await classify([...base, 'Subject: x'], 'x\r\n', '')).fromSystem, true);
    assert.equal((await classify([...base, 'Subject: x'], 'x\r\n', '<>')).fromSystem, true);
    assert.equal((await classify([...base, 'Subject: x'], 'x\r\n', null)).fromSystem, false);
    const daemon = await classify(['From: Mail Delivery System <MAILER-DAEMON@mx.example.se>', 'Subject: Hej', 'To: sc@borlange.example']);
    assert.equal(daemon.fromSystem, true);
    assert.equal(daemon.suppressAcknowledgement, true);
    assert.equal((await classify(['From: postmaster@example.se', 'Subject: Hej'])).fromSystem, true);
  });

  const dsnHeaders = [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.se>',
    'To: sc@borlange.example',
    'Subject: Undelivered Mail Returned to Sender',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="DSN"',
  ];

  it('a DSN bounce names the original Message-ID, the recipient and the status', async () => {
    const body = crlf(
      [
        '--DSN',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        'This is the mail system at host mx.example.se.',
        "I'm sorry to have to inform you that your message could not be delivered.",
        '--DSN',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.example.se',
        'Arrival-Date: Tue,  3 Mar 2026 10:15:00 +0100',
        '',
        'Final-Recipient: rfc822; Anna.Andersson@example.se',
        'Original-Recipient: rfc822;anna.andersson@example.se',
        'Action: failed',
        'Status: 5.1.1',
        'Remote-MTA: dns; mx2.example.se',
        'Diagnostic-Code: smtp; 550 5.1.1 <anna.andersson@example.se>: Recipient',
        '    address rejected: User unknown',
        '--DSN',
        'Content-Type: text/rfc822-headers',
        '',
        'From: Servicecenter <sc@borlange.example>',
        'To: anna.andersson@example.se',
        'Subject: [SC-2026-000123] Vi har tagit emot ditt ärende',
        'Message-ID: <sc.abc@borlange.example>',
        '--DSN--',
        '',
      ].join('\n'),
    );
    const mail = await parseInbound(message(dsnHeaders, body), '');
    assert.deepEqual(mail.classification.bounce, {
      originalMessageIds: ['sc.abc@borlange.example'],
      recipients: ['anna.andersson@example.se'],
      action: 'failed',
      status: '5.1.1',
      diagnostic: '550 5.1.1 <anna.andersson@example.se>: Recipient address rejected: User unknown',
    });
    assert.equal(mail.classification.fromSystem, true);
    assert.equal(mail.classification.suppressAcknowledgement, true);
    assert.match(mail.text, /could not be delivered/);
    assert.deepEqual(
      mail.attachments.map((a) => [a.filename, a.contentType]),
      [
        ['delivery-status.txt', 'message/delivery-status'],
        ['original-headers.txt', 'text/rfc822-headers'],
      ],
    );
  });

  it('a DSN with the whole original message (message/rfc822) names its Message-ID', async () => {
    const body = crlf(
      [
        '--DSN',
        'Content-Type: text/plain',
        '',
        'Delivery has failed to these recipients or groups:',
        '--DSN',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns;exchange.example.se',
        '',
        'Final-Recipient: rfc822;nobody@example.se',
        'Action: failed',
        'Status: 5.4.1',
        'Diagnostic-Code: smtp;550 5.4.1 Recipient address rejected: Access denied.',
        '--DSN',
        'Content-Type: message/rfc822',
        '',
        'From: sc@borlange.example',
        'To: nobody@example.se',
        'Subject: Svar',
        'Message-ID: <sc.def@borlange.example>',
        '',
        'Hej!',
        '--DSN--',
        '',
      ].join('\n'),
    );
    const mail = await parseInbound(message(['From: postmaster@example.se', 'To: sc@borlange.example', 'Subject: Undeliverable: Svar', ...dsnHeaders.slice(4)], body));
    assert.deepEqual(mail.classification.bounce, {
      originalMessageIds: ['sc.def@borlange.example'],
      recipients: ['nobody@example.se'],
      action: 'failed',
      status: '5.4.1',
      diagnostic: '550 5.4.1 Recipient address rejected: Access denied.',
    });
  });

  it('recognises a non-standard bounce from MAILER-DAEMON with the original headers in the body', async () => {
    const body = crlf(
      [
        'This message was created automatically by mail delivery software.',
        '',
        'A message that you sent could not be delivered to one or more of its',
        'recipients. This is a permanent error. The following address(es) failed:',
        '',
        '  per.persson@example.se',
        '    host mx.example.se [192.0.2.1]',
        '    SMTP error from remote mail server after RCPT TO:<per.persson@example.se>:',
        '    550 5.1.1 User unknown',
        '',
        '------ This is a copy of the message, including all the headers. ------',
        '',
        'Return-path: <sc@borlange.example>',
        'From: sc@borlange.example',
        'To: per.persson@example.se',
        'Subject: [SC-2026-000124] Svar',
        'Message-ID: <sc.ghi@borlange.example>',
        '',
        'Hej Per!',
        '',
      ].join('\n'),
    );
    const mail = await parseInbound(
      message(['From: Mail Delivery System <Mailer-Daemon@mx.example.se>', 'To: sc@borlange.example', 'Subject: Mail delivery failed: returning message to sender'], body),
    );
    assert.deepEqual(mail.classification.bounce, {
      originalMessageIds: ['sc.ghi@borlange.example'],
      recipients: ['per.persson@example.se'],
      action: 'failed',
      status: '5.1.1',
      diagnostic: '550 5.1.1 User unknown',
    });
    assert.equal(mail.classification.suppressAcknowledgement, true);
  });

  it('a message from an ordinary sender quoting headers is not a bounce', async () => {
    const mail = await parseInbound(message([...base, 'Subject: Undeliverable?'], 'Message-ID: <x@y>\r\n'));
    assert.equal(mail.classification.bounce, null);
  });

  it('a read receipt (disposition-notification report) counts as an auto-reply', async () => {
    const body = crlf(
      [
        '--MDN',
        'Content-Type: text/plain',
        '',
        'Ditt meddelande har lästs.',
        '--MDN',
        'Content-Type: message/disposition-notification',
        '',
        'Final-Recipient: rfc822; anna@example.se',
        'Disposition: manual-action/MDN-sent-manually; displayed',
        '--MDN--',
        '',
      ].join('\n'),
    );
    const c = await classify([...base, 'Subject: Läst: Svar', 'Content-Type: multipart/report; report-type=disposition-notification; boundary="MDN"'], body);
    assert.equal(c.autoReply, true);
    assert.equal(c.bounce, null);
  });
});

describe('mail content: sanitizeMailHtml', () => {
  it('sanitizing stored HTML again keeps remote images blocked, and reveals only https ones on consent', () => {
    const stored = sanitizeMailHtml('<p>Hej</p><img src="https://tracker.example/p.gif" alt="x"><img src="http://plain.example/a.png" alt="y">');
    assert.equal(stored.hasRemoteImages, true);
    assert.ok(!/\ssrc=/.test(stored.html), stored.html);
    const again = sanitizeMailHtml(stored.html);
    assert.equal(again.html, stored.html, 'idempotent');
    assert.equal(again.hasRemoteImages, true);
    const shown = sanitizeMailHtml(stored.html, { allowRemoteImages: true });
    assert.match(shown.html, /<img [^>]*src="https:\/\/tracker\.example\/p\.gif"/);
    assert.match(shown.html, /data-remote-src="http:\/\/plain\.example\/a\.png"/);
    assert.ok(!/\ssrc="http:\/\//.test(shown.html), 'plain http stays blocked');
  });

  const hostile = [
    '<html><head><style>body{display:none}</style><title>Titel</title><base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example"><link rel="stylesheet" href="https://evil.example/a.css"></head>',
    '<body onload="alert(1)">',
    '<p style="position:fixed;top:0;left:0;width:100%;height:100%" onclick="steal()">Hej <b>där</b></p>',
    '<script>alert(1)</script><img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">ett</a><a href="JaVaScRiPt&colon;alert(1)">två</a><a href=" java\tscript:alert(2)">tre</a>',
    '<svg><script>alert(1)</script><circle r="1" onload="alert(1)"/></svg><math><mi>x</mi></math>',
    '<iframe src="https://evil.example"></iframe><object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name="pw"><button>Skicka</button></form>',
    '<img src="https://tracker.example/p.gif?u=1" width="1" height="1" alt="">',
    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="d"><img src="cid:logo@x" alt="logo" style="x">',
    '<a href="https://www.borlange.se/bygglov" target="_self" rel="opener">länk</a> <a href="mailto:sc@borlange.example">mejla</a>',
    '<div><span class="x" id="y" data-x="1">text</span></div>',
    '<table><tr><td colspan="2" style="color:red" background="https://t.example/bg.gif">c</td></tr></table>',
    '<a href="vbscript:msgbox(1)">vb</a><a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">data</a>',
    '<img src="//cdn.example/i.png"><img data-remote-src="javascript:alert(1)">',
    '</body></html>',
  ].join('');

  const expected = [
    '<p>Hej <b>där</b></p>',
    '<a>ett</a><a>två</a><a>tre</a>',
    '<img alt="" width="1" height="1" data-remote-src="https://tracker.example/p.gif?u=1" />',
    '<img alt="logo" src="cid:logo@x" />',
    '<a href="https://www.borlange.se/bygglov" rel="noopener noreferrer nofollow" target="_blank">länk</a> ',
    '<a href="mailto:sc@borlange.example" rel="noopener noreferrer nofollow" target="_blank">mejla</a>',
    '<div><span>text</span></div>',
    '<table><tr><td colspan="2">c</td></tr></table>',
    '<a>vb</a><a>data</a><img data-remote-src="https://cdn.example/i.png" />',
  ].join('');

  it('removes everything active and keeps the formatting', () => {
    const result = sanitizeMailHtml(hostile);
    assert.equal(result.html, expected);
    assert.equal(result.hasRemoteImages, true);
    for (const bad of ['<script', 'onerror', 'onload', 'onclick', 'javascript:', 'vbscript:', 'data:', '<svg', '<math', 'style=', '<style', '<iframe', '<object', '<embed', '<form', '<input', '<base', '<meta', '<link', 'evil.example', 'class=', ' id=']) {
      assert.ok(!result.html.toLowerCase().includes(bad.toLowerCase()), `sanitized HTML contains ${bad}`);
    }
  });

  it('does not load remote images by default: data-remote-src and no src', () => {
    const { html, hasRemoteImages } = sanitizeMailHtml('<p>Nyhetsbrev</p><img src="https://tracker.example/open.gif?id=123" width="1" height="1">');
    assert.equal(html, '<p>Nyhetsbrev</p><img width="1" height="1" data-remote-src="https://tracker.example/open.gif?id=123" />');
    assert.equal(hasRemoteImages, true);
    assert.ok(!/\ssrc=/.test(html));
  });

  it('keeps https images when remote images are allowed, never plain http ones', () => {
    const { html, hasRemoteImages } = sanitizeMailHtml('<img src="https://cdn.example/a.png"><img src="http://cdn.example/b.png">', { allowRemoteImages: true });
    assert.equal(html, '<img src="https://cdn.example/a.png" /><img data-remote-src="http://cdn.example/b.png" />');
    assert.equal(hasRemoteImages, true);
  });

  it('reports no remote images when there are none, and keeps table spans', () => {
    const { html, hasRemoteImages } = sanitizeMailHtml('<table><tr><th rowspan="2" onmouseover="x">A</th><td colspan="abc">B</td></tr></table><img src="cid:a@b">');
    assert.equal(html, '<table><tr><th rowspan="2">A</th><td>B</td></tr></table><img src="cid:a@b" />');
    assert.equal(hasRemoteImages, false);
  });

  it('sanitizes the HTML of a parsed message', async () => {
    const raw = message([...base, 'Subject: Farligt', 'Content-Type: text/html; charset=utf-8'], hostile);
    const mail = await parseInbound(Buffer.from(raw.toString('latin1'), 'utf8'));
    assert.equal(mail.html, expected);
    assert.equal(mail.hasRemoteImages, true);
    assert.ok(!mail.text.includes('alert'));
  });
});

describe('mail content: splitQuoted', () => {
  const check = (text: string, body: string, quotedStart: string | null) => {
    const result = splitQuoted(text);
    assert.equal(result.body, body);
    if (quotedStart === null) assert.equal(result.quoted, null);
    else assert.ok(result.quoted?.startsWith(quotedStart), `quoted starts with ${JSON.stringify(result.quoted?.slice(0, 60))}`);
  };

  it('Outlook, English header block under a rule', () => {
    check(
      'Thanks, that works.\r\n\r\nPer\r\n\r\n________________________________\r\nFrom: Servicecenter <sc@borlange.example>\r\nSent: Tuesday, March 3, 2026 10:15 AM\r\nTo: Per Persson <per@example.se>\r\nSubject: [SC-2026-000123] Your question\r\n\r\nHello Per,\r\n',
      'Thanks, that works.\n\nPer',
      '________________________________\nFrom: Servicecenter',
    );
  });

  it('Outlook, English -----Original Message-----', () => {
    check('See attached.\n\n-----Original Message-----\nFrom: sc@borlange.example\nSent: den 3 mars 2026 10:15\n', 'See attached.', '-----Original Message-----');
  });

  it('Outlook, Swedish header block and separator', () => {
    check(
      'Tack för svaret!\n\nMvh Lisa\n\nFrån: Servicecenter <sc@borlange.example>\nSkickat: den 3 mars 2026 10:15\nTill: Lisa Larsson <lisa@example.se>\nÄmne: [SC-2026-000123] Din fråga\n\nHej Lisa,\n',
      'Tack för svaret!\n\nMvh Lisa',
      'Från: Servicecenter',
    );
    check('Ja.\n\n-----Ursprungligt meddelande-----\nFrån: sc@borlange.example\n', 'Ja.', '-----Ursprungligt meddelande-----');
    check(
      'Bifogar bilden.\n\n*Från:* Servicecenter <sc@borlange.example>\n*Datum:* tisdag 3 mars 2026 10:15\n*Till:* Lisa <lisa@example.se>\n*Ämne:* Fråga\n',
      'Bifogar bilden.',
      '*Från:* Servicecenter',
    );
  });

  it('Gmail, English, with the attribution wrapped over two lines', () => {
    check(
      'Yes, please.\n\nOn Tue, 3 Mar 2026 at 10:15, Servicecenter <sc@borlange.example>\nwrote:\n\n> Hello,\n> do you want a call?\n',
      'Yes, please.',
      'On Tue, 3 Mar 2026 at 10:15',
    );
  });

  it('Gmail, Swedish', () => {
    check(
      'Det stämmer.\n\nDen tis 3 mars 2026 kl 10:15 skrev Servicecenter <sc@borlange.example>:\n\n> Hej,\n> stämmer adressen?\n',
      'Det stämmer.',
      'Den tis 3 mars 2026',
    );
    check('Ok!\n\ntis 3 mars 2026 kl. 10:15 skrev Servicecenter <sc@borlange.example>:\n> Hej\n', 'Ok!', 'tis 3 mars 2026');
  });

  it('Apple Mail, Swedish and English', () => {
    check('Tack!\n\nSkickat från min iPhone\n\n3 mars 2026 kl. 10:15 skrev Servicecenter <sc@borlange.example>:\n\n> Hej\n', 'Tack!\n\nSkickat från min iPhone', '3 mars 2026 kl. 10:15 skrev');
    check('Thanks!\n\n> On 3 Mar 2026, at 10:15, Servicecenter <sc@borlange.example> wrote:\n>\n> Hello\n', 'Thanks!', '> On 3 Mar 2026');
    check('Thanks!\n\nOn 3 Mar 2026, at 10:15, Servicecenter <sc@borlange.example> wrote:\n\n> Hello\n', 'Thanks!', 'On 3 Mar 2026, at 10:15');
  });

  it('">" quoting at the end, and interleaved answers kept in the body', () => {
    check('Svar ovanför.\n\n> Tidigare text\n> mer text\n', 'Svar ovanför.', '> Tidigare text');
    check('> Fråga ett?\nSvar ett.\n\n> Fråga två?\nSvar två.\n', '> Fråga ett?\nSvar ett.\n\n> Fråga två?\nSvar två.', null);
    check('> Fråga ett?\nSvar ett.\n\n> Hela historiken\n> fortsätter\n', '> Fråga ett?\nSvar ett.', '> Hela historiken');
  });

  it('never returns an empty body', () => {
    check('> allt är citerat\n> här\n', '> allt är citerat\n> här', null);
    check('On Tue, 3 Mar 2026 at 10:15, A <a@b.se> wrote:\n> x\n', 'On Tue, 3 Mar 2026 at 10:15, A <a@b.se> wrote:\n> x', null);
    check('', '', null);
  });

  it('leaves prose alone', () => {
    check('Jag skrev till er 3 gånger:\nförst i januari, sedan i mars.\n', 'Jag skrev till er 3 gånger:\nförst i januari, sedan i mars.', null);
    check('From: my point of view this is wrong.\nTo: be honest.\n', 'From: my point of view this is wrong.\nTo: be honest.', null);
    check('Hej!\nInget citat här.', 'Hej!\nInget citat här.', null);
  });
});

describe('mail content: case references in subjects', () => {
  it('finds references, upper-cased and unique', () => {
    assert.deepEqual(referencesInSubject('Re: Re: [SC-2026-000123] Fråga'), ['SC-2026-000123']);
    assert.deepEqual(referencesInSubject('sv: sc-2026-000456 bygglov'), ['SC-2026-000456']);
    assert.deepEqual(referencesInSubject('SC-2026-000123 och SC-2025-1234567, igen SC-2026-000123'), ['SC-2026-000123', 'SC-2025-1234567']);
    assert.deepEqual(referencesInSubject('SC-2026-12345 (för kort) XSC-2026-000123 SC-2026-000123x'), []);
    assert.deepEqual(referencesInSubject(''), []);
  });

  it('REFERENCE_PATTERN is safe to reuse', () => {
    assert.equal(REFERENCE_PATTERN.global, false);
    assert.equal(REFERENCE_PATTERN.test('[SC-2026-000123]'), true);
    assert.equal(REFERENCE_PATTERN.test('[SC-2026-000123]'), true);
  });
});
