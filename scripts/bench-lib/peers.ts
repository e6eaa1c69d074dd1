/**
 * The orchestrator's side of the peer protocol (protocol.ts): starts a peer process, waits for its
 * `ready`, then sends one command at a time and awaits its one-line reply. Lines on the peer's
 * stdout that are not JSON objects (library banners) are ignored; its stderr is kept for errors.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Command, EpochReply, ReadyReply, Reply } from './protocol.js';

/** A running peer. */
export class Peer {
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private stderrTail = '';
  private exited: Error | null = null;
  /** The peer's `ready` reply (set by start). */
  ready!: ReadyReply;

  private constructor(
    readonly id: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      const t = line.trim();
      if (!t.startsWith('{')) return;
      let reply: Reply;
      try {
        reply = JSON.parse(t) as Reply;
      } catch {
        return;
      }
      this.waiting.shift()?.resolve(reply);
    });
    child.stderr.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(
        `${id} exited (${signal ?? code})${this.stderrTail ? ': ' + this.stderrTail.trim().split('\n').slice(-3).join(' | ') : ''}`,
      );
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
    child.on('error', (e) => {
      this.exited = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
  }

  /** Spawns `command args` and resolves once it is ready; rejects with its error message otherwise. */
  static async start(
    id: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<Peer> {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new Peer(id, child);
    const first = await peer.next();
    if (first.event === 'error') {
      peer.kill();
      throw new Error(first.message.split('\n')[0]);
    }
    if (first.event !== 'ready') throw new Error(`${id}: expected ready, got ${first.event}`);
    peer.ready = first;
    return peer;
  }

  private next(): Promise<Reply> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private send(cmd: Command): void {
    this.child.stdin.write(JSON.stringify(cmd) + '\n');
  }

  /** Trains one shuffled epoch, or its first `steps` batches. */
  async epoch(steps: number | null): Promise<EpochReply> {
    const reply = this.next();
    this.send({ cmd: 'epoch', steps });
    const r = await reply;
    if (r.event === 'error') throw new Error(`${this.id}: ${r.message.split('\n')[0]}`);
    if (r.event !== 'epoch') throw new Error(`${this.id}: expected epoch, got ${r.event}`);
    return r;
  }

  /** Asks the peer to exit and waits for it (killing it after 10 s). */
  async quit(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ cmd: 'quit' });
    this.child.stdin.end();
    const timer = setTimeout(() => this.kill(), 10000);
    await done;
    clearTimeout(timer);
  }

  /** Kills the peer process (only this child, by its handle). */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
