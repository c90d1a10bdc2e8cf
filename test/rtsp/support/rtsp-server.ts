/**
 * A real RTSP server for tests, started through deploy/rtsp/start.sh (which
 * installs it with deploy/rtsp/install.sh), with ffmpeg publishing video
 * files into it in a loop as cameras would. The server can be killed and
 * restarted on the same port to play a camera that drops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { portAnswers, REPO_ROOT, runDeployScript } from '../../support/deploy-scripts';

export const SAMPLE_VIDEO = join(REPO_ROOT, 'assets/sample.mp4');
const RTSP_HOME = join(REPO_ROOT, '.cache/rtsp');

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface RtspServerOptions {
  /** Paths that need credentials, e.g. `{ secure: { user: 'cam', password: 'right' } }`. */
  readonly auth?: Readonly<Record<string, Credentials>>;
}

export interface PublishOptions {
  /** Replay the file forever (default true). */
  readonly loop?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

interface Publication {
  readonly path: string;
  readonly file: string;
  readonly loop: boolean;
  child: ChildProcess | null;
}

export class RtspTestServer {
  private readonly publications: Publication[] = [];

  private constructor(
    readonly port: number,
    private readonly opts: RtspServerOptions,
  ) {}

  /** Installs (idempotent) and starts a server on a free port. */
  static async start(opts: RtspServerOptions = {}): Promise<RtspTestServer> {
    const server = new RtspTestServer(await freePort(), opts);
    await server.startServer();
    return server;
  }

  /** rtsp://[user:password@]127.0.0.1:port/path */
  url(path: string, creds?: Credentials): string {
    const auth = creds ? `${encodeURIComponent(creds.user)}:${encodeURIComponent(creds.password)}@` : '';
    return `rtsp://${auth}127.0.0.1:${this.port}/${path}`;
  }

  /** Publishes a file on a path (ffmpeg, `-re`, `-c copy`), with the path's credentials if it has any. */
  async publish(path: string, file: string = SAMPLE_VIDEO, opts: PublishOptions = {}): Promise<void> {
    const pub: Publication = { path, file, loop: opts.loop ?? true, child: null };
    this.publications.push(pub);
    await this.startPublisher(pub);
  }

  /** The server dies without warning (SIGKILL); its publishers lose the connection and exit. */
  async kill(): Promise<void> {
    const pid = this.serverPid();
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 50 && (await portAnswers(this.port, 200)); i++) await sleep(100);
    await Promise.all(this.publications.map((p) => this.stopPublisher(p)));
  }

  /** Starts the server again on the same port and republishes every path. */
  async restart(): Promise<void> {
    await this.startServer();
    for (const pub of this.publications) await this.startPublisher(pub);
  }

  async stop(): Promise<void> {
    await Promise.all(this.publications.map((p) => this.stopPublisher(p)));
    await runDeployScript('rtsp/stop.sh', { RTSP_PORT: String(this.port) }, 60_000);
  }

  private async startServer(): Promise<void> {
    const auth = Object.entries(this.opts.auth ?? {})
      .map(([path, c]) => `${path}=${c.user}:${c.password}`)
      .join(',');
    await runDeployScript('rtsp/start.sh', { RTSP_PORT: String(this.port), RTSP_AUTH: auth }, 300_000);
  }

  private serverPid(): number | null {
    try {
      return Number(readFileSync(join(RTSP_HOME, 'run', String(this.port), 'server.pid'), 'utf8').trim()) || null;
    } catch {
      return null;
    }
  }

  private async startPublisher(pub: Publication): Promise<void> {
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'];
    if (pub.loop) args.push('-stream_loop', '-1');
    args.push('-i', pub.file, '-map', '0:v:0', '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp');
    args.push(this.url(pub.path, this.opts.auth?.[pub.path]));
    // Own process group: stopped together with anything it spawns, and not by a Ctrl-C meant for vitest.
    const child = spawn('ffmpeg', args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.resume();
    pub.child = child;
    // Publishing has begun once the server holds the path; readers get 404 before that.
    await sleep(300);
    if (child.exitCode !== null) throw new Error(`publisher for ${pub.path} exited at once (code ${child.exitCode})`);
  }

  private async stopPublisher(pub: Publication): Promise<void> {
    const child = pub.child;
    pub.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-(child.pid as number), 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // gone
      }
    }, 3000);
    await exited;
    clearTimeout(timer);
  }
}
