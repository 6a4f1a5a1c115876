import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';

/** A loopback address where a database should be and that never answers. */
export interface BlackHole {
  readonly port: number;
  /** A connection string to it, with a password that must never be printed. */
  readonly url: string;
  close(): Promise<void>;
}

const urlOf = (port: number) => `postgresql://teller:black-hole-secret@127.0.0.1:${port}/bank?sslmode=disable`;

/** Accepts every connection and never sends a byte: the start-up message goes unanswered. */
export async function startSilentListener(): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    url: urlOf(port),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Never accepts: a socket listening with a backlog of 0 that nobody accepts
 * from (Node accepts by itself, so a small Python process holds it). Once one
 * connection fills the queue, the kernel drops every further SYN, as a host
 * behind a firewall that drops packets would: a connect neither succeeds nor fails.
 */
export async function startDeafListener(): Promise<BlackHole> {
  const holder: ChildProcess = spawn(
    'python3',
    [
      '-c',
      'import socket, sys\ns = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)\nprint(s.getsockname()[1], flush=True)\nsys.stdin.read()',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    holder.once('error', reject);
    holder.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  const filler = createConnection({ host: '127.0.0.1', port });
  filler.on('error', () => {});
  await new Promise((resolve) => filler.once('connect', resolve));
  return {
    port,
    url: urlOf(port),
    close: async () => {
      filler.destroy();
      holder.stdin!.end();
      await new Promise((resolve) => holder.once('close', resolve));
    },
  };
}
