/**
 * A small HTTP server on 127.0.0.1 (port chosen by the system) that serves byte arrays
 * by path, honours `Range: bytes=N-`, and can misbehave on purpose: cut a response
 * short, or ignore Range. Records every request's path and Range header.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedRequest {
  path: string;
  range: string | undefined;
}

export interface FileServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  requests: ServedRequest[];
  /** Cut the next `count` responses of `path` after `bytes` bytes of body (the connection is destroyed). */
  cutNext(path: string, bytes: number, count?: number): void;
  /** Answer Range requests with the whole file (200). */
  ignoreRange: boolean;
  close(): Promise<void>;
}

/** `redirects` maps a path to the Location of a 302 answer. */
export async function startFileServer(files: Record<string, Uint8Array>, redirects: Record<string, string> = {}): Promise<FileServer> {
  const cuts = new Map<string, { bytes: number; count: number }>();
  const requests: ServedRequest[] = [];
  const state = { ignoreRange: false };
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const range = request.headers.range;
    requests.push({ path, range });
    const location = redirects[path];
    if (location !== undefined) {
      response.writeHead(302, { Location: location }).end();
      return;
    }
    const body = files[path];
    if (body === undefined) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    let start = 0;
    const match = /^bytes=(\d+)-$/.exec(range ?? '');
    if (match && !state.ignoreRange) {
      start = Number(match[1]);
      if (start >= body.length) {
        response.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      response.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      response.writeHead(200, { 'Content-Length': body.length });
    }
    const cut = cuts.get(path);
    if (cut && cut.count > 0) {
      cut.count--;
      // The bytes, then the end of the connection (FIN, so they are not lost) mid-body.
      response.write(Buffer.from(body.subarray(start, start + cut.bytes)), () => response.socket?.end());
      return;
    }
    response.end(Buffer.from(body.subarray(start)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    cutNext(path, bytes, count = 1) {
      cuts.set(path, { bytes, count });
    },
    get ignoreRange() {
      return state.ignoreRange;
    },
    set ignoreRange(value: boolean) {
      state.ignoreRange = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
