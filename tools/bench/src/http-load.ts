import { connect, type Socket } from 'node:net';
import { percentile } from './bench-util';

// autocannon has no bundled types.
const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;
export interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly p99_9?: number; readonly max: number };
  readonly errors: number;
  readonly non2xx: number;
  readonly timeouts: number;
}

/** One request, sent again and again: POST `path` with this JSON body and these headers. */
export interface LoadTarget {
  readonly url: string;
  readonly path: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Closed-loop maximum rate with autocannon; fails on any error or non-2xx answer. */
export async function maxLoad(target: LoadTarget, connections: number, seconds: number): Promise<AutocannonResult> {
  const result = await autocannon({
    url: `${target.url}${target.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: target.body,
    connections,
    duration: seconds,
  });
  if (result.errors || result.non2xx || result.timeouts) throw new Error(`${target.url}${target.path}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`);
  return result;
}

export interface Latency {
  readonly rate: number;
  readonly sent: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

/**
 * Open-loop latency at a fixed rate: requests leave on schedule whether or
 * not earlier ones have returned, and each latency is measured from its
 * scheduled time (no coordinated omission); answers in milliseconds. The
 * client is a pool of keep-alive sockets writing a pre-built request and
 * reading Content-Length framed responses, so it costs a few microseconds a
 * request (Node's http client would be the bottleneck here). autocannon's
 * rate limit sends in bursts and reports whole milliseconds, so autocannon is
 * used for the maximum rate only.
 */
export async function openLoop(target: LoadTarget, rate: number, seconds: number): Promise<Latency> {
  const where = new URL(target.url);
  const wire = jsonPost(where, target);
  const latencies = new Float64Array(Math.round(rate * seconds) + 1);
  let done = 0;
  let failures = 0;
  const queue: number[] = []; // scheduled times waiting for a free socket
  const idle: Socket[] = [];
  const startOn = (socket: Socket, scheduled: number) => {
    (socket as Socket & { scheduled: number }).scheduled = scheduled;
    socket.write(wire);
  };
  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: where.hostname, port: Number(where.port) }, () => resolve(socket));
      socket.setNoDelay(true);
      socket.on('error', reject);
      onResponses(socket, (status) => {
        if (status === 200) latencies[done++] = (performance.now() - (socket as Socket & { scheduled: number }).scheduled) * 1000;
        else failures++;
        const next = queue.shift();
        if (next !== undefined) startOn(socket, next);
        else idle.push(socket);
      });
    });
  const sockets = await Promise.all(Array.from({ length: 64 }, open));
  idle.push(...sockets);
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    for (; sent < due; sent++) {
      const scheduled = start + (sent / rate) * 1000;
      const socket = idle.pop();
      if (socket) startOn(socket, scheduled);
      else queue.push(scheduled);
    }
    await new Promise((r) => setImmediate(r));
  }
  const deadline = performance.now() + 30_000;
  while (done + failures < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  for (const s of sockets) s.destroy();
  if (failures > 0 || done < total) throw new Error(`${target.url}${target.path}: ${failures} failed and ${total - done - failures} unanswered of ${total} requests at ${rate}/s`);
  const sorted = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
  return { rate, sent: total, p50: percentile(sorted, 50) / 1000, p99: percentile(sorted, 99) / 1000, p999: percentile(sorted, 99.9) / 1000 };
}

/** One answer of `pooledRequests`: the status line's code and the body. */
export interface PooledAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/**
 * `count` different POST requests over `connections` keep-alive sockets, each
 * socket sending its next request when the previous answer is in (closed
 * loop). Requests are built by `request(i)` just before they are sent and
 * answers handed to `answer(i, …)` as they arrive; latencies in
 * milliseconds. The same raw client as `openLoop` (a few microseconds of CPU
 * a request), so on a small machine the load generator takes little from the
 * server; answers must be Content-Length framed (Fastify's always are).
 */
export async function pooledRequests(
  url: string,
  count: number,
  connections: number,
  request: (i: number) => { readonly path: string; readonly body: string; readonly headers: Readonly<Record<string, string>> },
  answer: (i: number, a: PooledAnswer) => void,
): Promise<{ seconds: number; latencies: Float64Array }> {
  const where = new URL(url);
  const latencies = new Float64Array(count);
  let next = 0;
  let finished = 0;
  let failure: Error | null = null;
  let settle!: () => void;
  const allDone = new Promise<void>((resolve) => (settle = resolve));
  const wire = (i: number): Buffer => jsonPost(where, request(i));
  const fail = (err: Error) => {
    failure ??= err;
    settle();
  };
  const sockets: Socket[] = [];
  const started = performance.now();
  const run = (socket: Socket) => {
    let current = -1;
    let sentAt = 0;
    const sendNext = () => {
      if (failure || next >= count) return;
      current = next++;
      sentAt = performance.now();
      socket.write(wire(current));
    };
    onResponses(
      socket,
      (status, body) => {
        latencies[current] = performance.now() - sentAt;
        try {
          answer(current, { status, body });
        } catch (err) {
          return fail(err as Error);
        }
        if (++finished === count) return settle();
        sendNext();
      },
      (head) => fail(new Error(`${url}: an answer without Content-Length: ${head.slice(0, 200)}`)),
    );
    socket.on('error', (err) => fail(new Error(`${url}: ${err.message}`)));
    socket.on('close', () => finished < count && fail(new Error(`${url}: the server closed a connection with ${count - finished} requests unanswered`)));
    sendNext();
  };
  for (let c = 0; c < Math.min(connections, count); c++) {
    const socket = connect({ host: where.hostname, port: Number(where.port) }, () => run(socket));
    socket.setNoDelay(true);
    socket.on('error', (err) => fail(new Error(`${url}: ${err.message}`)));
    sockets.push(socket);
  }
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  for (const s of sockets) s.destroy();
  if (failure) throw failure;
  return { seconds, latencies };
}

/** A keep-alive JSON POST, as bytes on the wire. */
function jsonPost(where: URL, r: { readonly path: string; readonly body: string; readonly headers: Readonly<Record<string, string>> }): Buffer {
  const headers = Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return Buffer.from(`POST ${r.path} HTTP/1.1\r\nhost: ${where.host}\r\n${headers}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(r.body)}\r\n\r\n${r.body}`);
}

/** Reads Content-Length framed HTTP/1.1 responses off a socket, one callback each (status, body). */
function onResponses(socket: Socket, onAnswer: (status: number, body: Buffer) => void, onUnframed?: (head: string) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      const m = /content-length: *(\d+)/i.exec(head);
      if (!m && onUnframed) return onUnframed(head);
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (buf.length < total) return;
      const body = buf.subarray(end + 4, total);
      buf = buf.subarray(total);
      onAnswer(Number(head.slice(9, 12)), body);
    }
  });
}
