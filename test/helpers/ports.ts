import { createServer } from 'node:net';

/**
 * A port that is free now, picked below the kernel's ephemeral range (32768-60999 on Linux): a port from that range,
 * released and bound again a moment later, can meanwhile be taken by any outgoing connection or by a child process
 * listening on port 0 (the Temporal dev server does), which made stacks fail with EADDRINUSE now and then.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port found in 20000-31999');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}
