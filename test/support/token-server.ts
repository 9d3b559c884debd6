/**
 * A tiny token server for the Docker registry token-auth flow, in node:http on 127.0.0.1: a key
 * and self-signed certificate made with openssl (the registry trusts the certificate as its
 * `rootcertbundle`), and GET /token?service=S&scope=repository:NAME:ACTIONS answered, for a
 * user/password it knows (HTTP basic), with an RS256 JWT carrying the certificate in `x5c` and the
 * requested access — what distribution's token verifier checks (issuer, audience, times, chain).
 */
import { execFile } from 'node:child_process';
import { randomBytes, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A running token server. */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** The certificate file to give the registry as rootcertbundle. */
  certBundle: string;
  /** Token requests answered, and refused. */
  issued: number;
  refused: number;
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** Makes a key and certificate in `dir` and starts the server on a free port. */
export async function startTokenServer(dir: string, users: Record<string, string>): Promise<TokenServer> {
  const key = join(dir, 'token.key');
  const cert = join(dir, 'token.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=berth-test-token']);
  const keyPem = await readFile(key, 'utf8');
  const der = (await readFile(cert, 'utf8')).replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const state = { issued: 0, refused: 0 };
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    const [user, pass] = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString().split(/:(.*)/s) : [];
    if (u.pathname !== '/token' || !user || users[user] !== pass) {
      state.refused++;
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
      return;
    }
    const access = u.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean).map((s) => {
      const [type, ...rest] = s.split(':');
      const actions = (rest.pop() ?? '').split(',').filter(Boolean);
      return { type, name: rest.join(':'), actions };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: user, aud: u.searchParams.get('service') ?? service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const token = `${header}.${claims}.${b64url(sign('sha256', Buffer.from(`${header}.${claims}`), keyPem))}`;
    state.issued++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`, service, issuer, certBundle: cert,
    get issued() { return state.issued; },
    get refused() { return state.refused; },
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
