/**
 * Sidequest's no-op job. Sidequest finds a job's code by the file that exports its class and runs it in a
 * worker thread of its forked engine process, so the class lives in a file of its own. A latency job (one whose
 * payload names a `port`) tells the runner when it started, by one UDP datagram to that port on loopback.
 */
import dgram from 'node:dgram';
import { Job } from 'sidequest';

export class SignalqBenchNoopJob extends Job {
  async run(payload) {
    if (!payload || !payload.port) return;
    const startedAt = Date.now();
    const socket = dgram.createSocket('udp4');
    const message = JSON.stringify({ i: payload.i, t: payload.t, startedAt });
    // Awaited: the worker thread may not get to a send left pending once the job has returned.
    await new Promise((resolve) => socket.send(message, payload.port, '127.0.0.1', (err) => {
      socket.close();
      resolve(err);
    }));
  }
}
