/**
 * Docker's system endpoints: /_ping (version negotiation starts here), /version, /info.
 */
import { engineInfo, versionDocument } from '../engine/info.js';
import type { ApiContext } from './containers.js';
import { API_VERSION, sendJson } from './http.js';

/** Berth's version (the CLI's), passed in by whoever starts the server. */
export interface ServerInfo {
  version: string;
}

/** The headers every answer carries, as dockerd's do: a client reads the version here. */
export function pingHeaders(): Record<string, string> {
  return { 'API-Version': API_VERSION, 'Docker-Experimental': 'false', 'OSType': 'linux', 'Server': 'Berth', 'Cache-Control': 'no-cache, no-store, must-revalidate', 'Pragma': 'no-cache' };
}

/** GET and HEAD /_ping */
export function ping(c: ApiContext): void {
  const head = c.req.method === 'HEAD';
  c.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': head ? '0' : '2' });
  c.res.end(head ? undefined : 'OK');
}

/** GET /version */
export function version(c: ApiContext, info: ServerInfo): void {
  sendJson(c.res, 200, versionDocument(info.version));
}

/** GET /info (engine/info.ts, as `berth info`). */
export async function info(c: ApiContext, i: ServerInfo): Promise<void> {
  sendJson(c.res, 200, await engineInfo(c.paths, i.version));
}
