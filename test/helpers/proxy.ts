/**
 * A TCP proxy between a queue and MariaDB that can be cut (every connection dropped, new ones refused) and
 * restored: a database outage for one queue, without stopping the shared server.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { MYSQL_URL } from './databases.ts';

/** A TCP proxy to MariaDB that can be cut (every connection dropped, new ones refused) and restored. */
export class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    const target = new URL(MYSQL_URL);
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port || 3306), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** `url` with its port replaced by the proxy's. */
export function throughProxy(url: string, proxy: CuttableProxy): string {
  const u = new URL(url);
  u.port = String(proxy.port);
  return u.toString();
}
