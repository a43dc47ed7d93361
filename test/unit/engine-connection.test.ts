/**
 * An Engine API request after the event loop was blocked longer than the daemon keeps an idle connection must not
 * fail. dockerd closes a keep-alive connection idle for 5 minutes; a long synchronous child (a test's CLI run) kept
 * the client from noticing, and the next request went out on the dead socket: `write EPIPE`. Here a stand-in
 * daemon on a unix socket closes idle connections after 200 ms and the loop is blocked for 1 s.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectEngine } from '../../src/engine/connect.js';

// The stand-in daemon runs in its own process: blocking this one's loop must not stop it from closing connections.
// Plain HTTP over net, like Go's server: no Keep-Alive header (Node's client would honour its timeout), and a
// connection idle for 200 ms is closed.
const DAEMON = `
const { createServer } = require('node:net');
let connections = 0;
const server = createServer((socket) => {
  connections++;
  let buffered = '';
  let idle = setTimeout(() => socket.destroy(), 200);
  socket.on('data', (d) => {
    buffered += d.toString('latin1');
    let end;
    while ((end = buffered.indexOf('\\r\\n\\r\\n')) >= 0) {
      const path = buffered.split(' ')[1] || '/';
      buffered = buffered.slice(end + 4);
      const body = path === '/connections' ? String(connections) : path.startsWith('/_ping') ? 'OK' : '[]';
      socket.write('HTTP/1.1 200 OK\\r\\nContent-Type: ' + (path.startsWith('/_ping') ? 'text/plain' : 'application/json') + '\\r\\nContent-Length: ' + body.length + '\\r\\n\\r\\n' + body);
      clearTimeout(idle);
      idle = setTimeout(() => socket.destroy(), 200);
    }
  });
  socket.on('error', () => {});
});
server.listen(process.argv[1], () => process.stdout.write('ready\\n'));
`;

describe('Engine API connections', () => {
  let dir: string;
  let sock: string;
  let daemon: ChildProcess;
  const connections = async () =>
    Number(
      await new Promise<string>((resolve, reject) => {
        get({ socketPath: sock, path: '/connections', agent: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      }),
    );
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'idekube-engine-'));
    sock = join(dir, 'docker.sock');
    daemon = spawn(process.execPath, ['-e', DAEMON, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('stand-in daemon did not start within 10 s')), 10_000);
      daemon.stdout!.once('data', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  });
  after(() => {
    daemon.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a request after the loop was blocked past the idle timeout succeeds (no stale keep-alive socket)', async () => {
    const engine = await connectEngine(`unix://${sock}`);
    await engine.listContainers({ all: true });
    spawnSync('sleep', ['1']); // blocks the event loop while the daemon drops the idle connection
    assert.deepEqual(await engine.listContainers({ all: true }), []);
    assert.deepEqual(await engine.listContainers({ all: true }), []);
  });

  it('every request opens its own connection', async () => {
    const engine = await connectEngine(`unix://${sock}`);
    const before = await connections();
    for (let i = 0; i < 3; i++) await engine.listContainers();
    assert.equal((await connections()) - before, 4); // three requests and the count itself
  });

  it('the stand-in reproduces the fault with a keep-alive agent (so the first test can fail)', async () => {
    const { default: Docker } = await import('dockerode');
    const { Agent } = await import('node:http');
    const engine = new Docker({ socketPath: sock, agent: new Agent({ keepAlive: true }) } as ConstructorParameters<typeof Docker>[0]);
    await engine.listContainers();
    spawnSync('sleep', ['1']);
    await assert.rejects(engine.listContainers(), (e: NodeJS.ErrnoException) => ['EPIPE', 'ECONNRESET'].includes(e.code ?? ''));
  });
});
