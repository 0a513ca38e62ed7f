import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One request a local HTTP receiver got, with its raw body (signatures are over the raw bytes). */
export interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly raw: string;
  readonly body: unknown;
}

/** A real HTTP receiver on a free local port; `answer` decides the status from the request and its number (default 200). `got` keeps the accepted ones. */
export async function httpReceiver(answer: (r: Received, n: number) => number = () => 200, port = 0) {
  const got: Received[] = [];
  let calls = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => { raw += c.toString('utf8'); });
    req.on('end', () => {
      const r = { headers: req.headers, raw, body: JSON.parse(raw) as unknown };
      const status = answer(r, ++calls);
      if (status < 300) got.push(r);
      res.writeHead(status).end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hook`,
    port: bound,
    got,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A mail as the SMTP server received it, with the envelope and the login it was sent under. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  readonly user: string | undefined;
  readonly secure: boolean;
  readonly raw: string;
}

/** A real SMTP server (smtp-server) with STARTTLS (its built-in test certificate) and PLAIN/LOGIN auth. */
export async function smtpReceiver(credentials: { user: string; pass: string }) {
  const mails: ReceivedMail[] = [];
  const logins: Array<{ user: string; ok: boolean }> = [];
  const server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, cb) {
      const ok = auth.username === credentials.user && auth.password === credentials.pass;
      logins.push({ user: auth.username ?? '', ok });
      cb(ok ? null : new Error('Invalid username or password'), ok ? { user: auth.username } : undefined);
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (c: Buffer) => { raw += c.toString('utf8'); });
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined, secure: session.secure, raw,
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, logins, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The headers and the decoded text and HTML parts of a raw MIME message (quoted-printable or base64). */
export function parseMail(raw: string): { headers: Record<string, string>; text: string; html: string } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = headerMap(head);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  const body = rest.join('\r\n\r\n');
  const parts = boundary ? body.split(`--${boundary}`).slice(1, -1) : [`${head}\r\n\r\n${body}`];
  let text = '';
  let html = '';
  for (const part of parts) {
    const [ph = '', ...pb] = part.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
    const h = headerMap(ph);
    const decoded = decode(pb.join('\r\n\r\n'), h['content-transfer-encoding'] ?? '7bit');
    if ((h['content-type'] ?? '').startsWith('text/plain')) text = decoded;
    if ((h['content-type'] ?? '').startsWith('text/html')) html = decoded;
  }
  return { headers, text, html };
}

function headerMap(head: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

function decode(body: string, encoding: string): string {
  const e = encoding.toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (e === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8').trim();
  }
  return body.trim();
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=` / `?B?`) of a header decoded. */
export function decodeHeader(value: string): string {
  return value.replace(/=\?utf-8\?([qb])\?([^?]*)\?=\s*/gi, (_m, enc: string, text: string) =>
    enc.toLowerCase() === 'b' ? Buffer.from(text, 'base64').toString('utf8') : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'));
}
