import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A client→server message after start-up. */
export interface ClientMessage {
  /** The message type byte: `Q` simple query, `P` parse, `B` bind, `E` execute, `S` sync, ... */
  readonly type: string;
  /** The SQL of a simple Query (`Q`). */
  readonly sql?: string;
  /** The SQL of a prepared statement, on its Parse (`P`) and each Bind (`B`) that runs it. */
  readonly statement?: string;
  /**
   * True if the server commits when it acts on this message: a `COMMIT` (or a
   * batch ending in one), a writing statement sent outside BEGIN, or the Sync
   * that ends a writing prepared statement outside BEGIN (an implicit transaction).
   */
  readonly commits: boolean;
}

/**
 * What to do with one message:
 * - `forward`: pass it on;
 * - `cut-before`: close both sockets without forwarding it;
 * - `cut-after`: forward it, let the server act on it, and close the client's
 *   socket before the reply reaches it (the ambiguous case for COMMIT);
 * - `{ delayMs }`: pass it on that much later (and everything after it on the
 *   connection, so order is kept).
 */
export type Verdict = 'forward' | 'cut-before' | 'cut-after' | { readonly delayMs: number } | Rewrite;

/**
 * Another server, as far as the client can tell: `sql` is sent instead of the
 * message's SQL (a simple Query or a Parse), and `answer`, when given, replaces
 * everything the server replies to it up to its ReadyForQuery.
 */
export interface Rewrite {
  readonly sql?: string;
  readonly answer?: SyntheticAnswer;
}

/**
 * A reply the proxy makes up: a command tag or an ErrorResponse, then
 * ReadyForQuery with the transaction status the client must believe
 * (`I` idle, `T` in a transaction, `E` in a failed one).
 */
export type SyntheticAnswer =
  | { readonly complete: string; readonly status: 'I' | 'T' | 'E' }
  | { readonly error: { readonly code: string; readonly message: string }; readonly status: 'I' | 'T' | 'E' };

export interface WireProxy {
  readonly port: number;
  /** The same connection string, through the proxy. */
  urlThrough(url: string): string;
  /** Decides the fate of each message from now on (default: forward everything). */
  setPolicy(policy: (message: ClientMessage) => Verdict): void;
  /** While on, every new connection is reset as soon as it is accepted (established ones go on). */
  refuseConnections(on: boolean): void;
  readonly cuts: { before: number; after: number };
  /** Connections reset by `refuseConnections`. */
  readonly refused: number;
  close(): Promise<void>;
}

const sslRequestCode = 80877103;
const gssEncRequestCode = 80877104;
const writes = /\b(INSERT|UPDATE|DELETE|UPSERT)\b/i;
const endsWithCommit = /\bCOMMIT\s*;?\s*$/i;
const beginsTransaction = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const endsTransaction = /^\s*(COMMIT|ROLLBACK|END|ABORT)\b/i;

/**
 * A loopback TCP proxy in front of PostgreSQL that reads the wire protocol
 * from the client: it declines SSLRequest/GSSENCRequest itself (so the client
 * talks plain text), passes the start-up message, then splits the stream into
 * messages and asks the policy about each one. It follows BEGIN/COMMIT and
 * prepared statements per connection, so it can tell which message commits.
 */
export async function startWireProxy(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<WireProxy> {
  let policy: (message: ClientMessage) => Verdict = () => 'forward';
  let refusing = false;
  let refused = 0;
  const cuts = { before: 0, after: 0 };
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    if (refusing) {
      refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: upstreamHost, port: upstreamPort });
    sockets.add(client).add(upstream);
    let closed = false;
    const closeBoth = () => {
      closed = true;
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
    const transaction = new TransactionTracker();
    // Messages wait here while an earlier one is delayed, so order is kept.
    const queue: Buffer[] = [];
    let pumping = false;

    // The made-up answer to the message that is out, and the server's reply to it so far.
    let answerInstead: Buffer | undefined;
    let replaced = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      if (swallowReplies) {
        closeBoth(); // the server answered the message we cut after: the client never sees it
        return;
      }
      if (!answerInstead) {
        client.write(chunk);
        return;
      }
      replaced = Buffer.concat([replaced, chunk]);
      for (let at = 0; at + 5 <= replaced.length; ) {
        const end = at + 1 + replaced.readInt32BE(at + 1);
        if (end > replaced.length) break;
        if (replaced[at] === 0x5a /* Z: ReadyForQuery */) {
          client.write(answerInstead);
          answerInstead = undefined;
          const rest = replaced.subarray(end);
          replaced = Buffer.alloc(0);
          if (rest.length > 0) client.write(rest);
          return;
        }
        at = end;
      }
    });

    const pump = async () => {
      if (pumping) return;
      pumping = true;
      while (queue.length > 0 && !closed) {
        const frame = queue.shift() as Buffer;
        const message = transaction.observe(frame);
        const verdict = policy(message);
        if (verdict === 'cut-before') {
          cuts.before++;
          closeBoth();
          break;
        }
        if (typeof verdict === 'object' && 'delayMs' in verdict) await sleep(verdict.delayMs);
        if (closed) break;
        if (typeof verdict === 'object' && !('delayMs' in verdict)) {
          if (verdict.answer) answerInstead = encodeAnswer(verdict.answer);
          upstream.write(verdict.sql === undefined ? frame : withSql(frame, verdict.sql));
          continue;
        }
        upstream.write(frame);
        if (verdict === 'cut-after') {
          cuts.after++;
          swallowReplies = true;
          break;
        }
      }
      pumping = false;
    };

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
        if (pending.length < 5) break;
        const length = pending.readInt32BE(1);
        if (pending.length < length + 1) break;
        queue.push(pending.subarray(0, length + 1));
        pending = pending.subarray(length + 1);
      }
      void pump();
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
    refuseConnections(on) {
      refusing = on;
    },
    cuts,
    get refused() {
      return refused;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Follows one connection's transaction state and prepared statements, to say which message commits. */
class TransactionTracker {
  #explicit = false;
  readonly #prepared = new Map<string, string>();
  /** SQL of what the next Sync completes outside BEGIN: the statements bound since the last Sync. */
  #boundWrites = false;

  observe(frame: Buffer): ClientMessage {
    const type = String.fromCharCode(frame[0] ?? 0);
    const body = frame.subarray(5, frame.length);
    if (type === 'Q') {
      const sql = cString(body, 0).text;
      let commits = false;
      if (endsWithCommit.test(sql)) {
        commits = true;
        this.#explicit = false;
      } else if (beginsTransaction.test(sql)) {
        this.#explicit = true;
      } else if (endsTransaction.test(sql)) {
        this.#explicit = false;
      } else {
        commits = !this.#explicit && writes.test(sql);
      }
      return { type, sql, commits };
    }
    if (type === 'P') {
      const name = cString(body, 0);
      const sql = cString(body, name.next).text;
      this.#prepared.set(name.text, sql);
      return { type, statement: sql, commits: false };
    }
    if (type === 'B') {
      const portal = cString(body, 0);
      const statement = cString(body, portal.next).text;
      const sql = this.#prepared.get(statement) ?? '';
      if (beginsTransaction.test(sql)) this.#explicit = true;
      if (writes.test(sql)) this.#boundWrites = true;
      return { type, statement: sql, commits: false };
    }
    if (type === 'S') {
      const commits = !this.#explicit && this.#boundWrites;
      this.#boundWrites = false;
      return { type, commits };
    }
    return { type, commits: false };
  }
}

function cString(buffer: Buffer, start: number): { text: string; next: number } {
  const end = buffer.indexOf(0, start);
  const stop = end === -1 ? buffer.length : end;
  return { text: buffer.subarray(start, stop).toString('utf8'), next: stop + 1 };
}

/** The frame with its SQL replaced: a simple Query (`Q`) or a Parse (`P`, name and parameter types kept). */
function withSql(frame: Buffer, sql: string): Buffer {
  const type = String.fromCharCode(frame[0] ?? 0);
  const body = frame.subarray(5);
  const text = Buffer.from(`${sql}\0`);
  let payload: Buffer;
  if (type === 'Q') payload = text;
  else if (type === 'P') {
    const name = cString(body, 0);
    const old = cString(body, name.next);
    payload = Buffer.concat([body.subarray(0, name.next), text, body.subarray(old.next)]);
  } else throw new Error(`cannot rewrite the SQL of a ${type} message`);
  return message(type, payload);
}

function message(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(payload.length + 4, 1);
  return Buffer.concat([header, payload]);
}

function encodeAnswer(answer: SyntheticAnswer): Buffer {
  const first =
    'complete' in answer
      ? message('C', Buffer.from(`${answer.complete}\0`))
      : message('E', Buffer.from(`SERROR\0VERROR\0C${answer.error.code}\0M${answer.error.message}\0\0`));
  return Buffer.concat([first, message('Z', Buffer.from(answer.status, 'latin1'))]);
}
