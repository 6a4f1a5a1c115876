import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** A client→server message after start-up: its type byte and, for a simple Query, its SQL. */
export interface ClientMessage {
  readonly type: string;
  readonly sql?: string;
}

/**
 * What to do with one message:
 * - `forward`: pass it on;
 * - `cut-before`: close both sockets without forwarding it;
 * - `cut-after`: forward it, let the server act on it, and close the client's
 *   socket before the reply reaches it (the ambiguous case for COMMIT).
 */
export type Verdict = 'forward' | 'cut-before' | 'cut-after';

export interface WireProxy {
  readonly port: number;
  /** The same connection string, through the proxy. */
  urlThrough(url: string): string;
  /** Decides the fate of each message from now on (default: forward everything). */
  setPolicy(policy: (message: ClientMessage) => Verdict): void;
  readonly cuts: { before: number; after: number };
  close(): Promise<void>;
}

const sslRequestCode = 80877103;
const gssEncRequestCode = 80877104;

/**
 * A loopback TCP proxy in front of PostgreSQL that reads the wire protocol
 * from the client: it declines SSLRequest/GSSENCRequest itself (so the client
 * talks plain text), passes the start-up message, then splits the stream into
 * messages and asks the policy about each one.
 */
export async function startWireProxy(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<WireProxy> {
  let policy: (message: ClientMessage) => Verdict = () => 'forward';
  const cuts = { before: 0, after: 0 };
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: upstreamHost, port: upstreamPort });
    sockets.add(client).add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', () => sockets.delete(client) && upstream.end());
    upstream.on('close', () => sockets.delete(upstream) && client.destroy());
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);

    let pending = Buffer.alloc(0);
    let started = false;
    let swallowReplies = false;

    upstream.on('data', (chunk: Buffer) => {
      if (!swallowReplies) {
        client.write(chunk);
        return;
      }
      closeBoth(); // the server answered the message we cut after: the client never sees it
    });

    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (!started) {
          if (pending.length < 8) return;
          const length = pending.readInt32BE(0);
          if (pending.length < length) return;
          const code = pending.readInt32BE(4);
          const message = pending.subarray(0, length);
          pending = pending.subarray(length);
          if (code === sslRequestCode || code === gssEncRequestCode) {
            client.write('N');
            continue;
          }
          started = true;
          upstream.write(message);
          continue;
        }
        if (pending.length < 5) return;
        const length = pending.readInt32BE(1);
        if (pending.length < length + 1) return;
        const frame = pending.subarray(0, length + 1);
        pending = pending.subarray(length + 1);
        const type = String.fromCharCode(frame[0] ?? 0);
        const sql = type === 'Q' ? frame.subarray(5, frame.length - 1).toString('utf8') : undefined;
        const verdict = policy(sql === undefined ? { type } : { type, sql });
        if (verdict === 'cut-before') {
          cuts.before++;
          closeBoth();
          return;
        }
        upstream.write(frame);
        if (verdict === 'cut-after') {
          cuts.after++;
          swallowReplies = true;
          return;
        }
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    urlThrough(url) {
      const through = new URL(url);
      through.hostname = '127.0.0.1';
      through.port = String(port);
      through.searchParams.set('sslmode', 'disable');
      return through.toString();
    },
    setPolicy(next) {
      policy = next;
    },
    cuts,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
