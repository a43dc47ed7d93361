/**
 * Readiness against a stand-in HTTP server and a scripted `supervisorctl status`: an answer from port 80 seen once
 * counts even when a later probe gets none in time (a loaded machine), and the wait ends as soon as a program has
 * given up; when nothing ever answers, the message says what the last try got.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { Exec } from '../../src/verify/exec.js';
import type { TestContainer } from '../../src/verify/container.js';
import { describeReadiness, waitReady } from '../../src/verify/ready.js';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A server that answers its first `answers` requests, then never again (requests hang). */
async function flakyServer(answers: number): Promise<number> {
  let n = 0;
  const s = createServer((_req, res) => {
    if (n++ < answers) res.end('landing');
    // else: leave the request hanging
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

function fakeContainer(port: number): TestContainer {
  return {
    port,
    state: async () => ({ running: true, exitCode: 0, status: 'running' }),
    logs: async () => '',
    logTail: async () => '',
  } as unknown as TestContainer;
}

/** supervisorctl status that goes through the given states, one per call, then stays on the last. */
function programs(...states: string[][]): Exec {
  let i = 0;
  return async () => {
    const now = states[Math.min(i++, states.length - 1)]!;
    return { code: 3, stdout: now.map((l) => `${l}\n`).join(''), stderr: '' };
  };
}

describe('readiness', { timeout: 120_000 }, () => {
  it('an answer seen once counts; a program that gave up ends the wait (the later probe got no answer)', async () => {
    const port = await flakyServer(1);
    const t0 = Date.now();
    const r = await waitReady(fakeContainer(port), [], {
      timeoutMs: 40_000,
      programs: programs(
        ['nginx RUNNING pid 5, uptime 0:00:01', 'vnc BACKOFF Exited too quickly (process log may have details)'],
        ['nginx RUNNING pid 5, uptime 0:00:08', 'vnc FATAL Exited too quickly (process log may have details)'],
      ),
    });
    assert.equal(r.nginx, true);
    assert.deepEqual(r.fatal, ['vnc']);
    assert.ok(Date.now() - t0 < 20_000, `ended after ${Date.now() - t0} ms, not at the deadline`);
    assert.match(describeReadiness(r, port), /supervisord gave up on: vnc/);
  });

  it('a program gave up: the wait goes on while a route still answers 502, until it answers (a port still binding)', async () => {
    let n = 0;
    const s = createServer((req, res) => {
      if (req.url === '/vnc/' && n++ < 3) {
        res.statusCode = 502;
        return res.end('bad gateway');
      }
      res.end('ok');
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    const t0 = Date.now();
    const r = await waitReady(fakeContainer(port), [{ path: '/vnc/', port: 6081 }], {
      timeoutMs: 40_000,
      programs: programs(['novnc RUNNING pid 6, uptime 0:00:02', 'vnc FATAL Exited too quickly (process log may have details)']),
    });
    assert.deepEqual(r.pending, [], 'the route answered before the wait ended');
    assert.deepEqual(r.fatal, ['vnc']);
    assert.ok(Date.now() - t0 < 15_000, `ended after ${Date.now() - t0} ms, once the route answered`);
  });

  it('a program gave up and a route never answers: the wait ends after the grace, not at the deadline', async () => {
    const s = createServer((req, res) => {
      res.statusCode = req.url === '/vnc/' ? 502 : 200;
      res.end();
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    const t0 = Date.now();
    const r = await waitReady(fakeContainer(port), [{ path: '/vnc/', port: 6081 }], {
      timeoutMs: 100_000,
      programs: programs(['vnc FATAL Exited too quickly (process log may have details)']),
    });
    assert.deepEqual(r.pending, ['/vnc/']);
    const took = Date.now() - t0;
    assert.ok(took >= 25_000 && took < 40_000, `ended after ${took} ms (grace: a quarter of the 100 s timeout)`);
  });

  it('nothing ever answering: waits to the deadline and says what the last try got', async () => {
    const port = await flakyServer(0);
    const r = await waitReady(fakeContainer(port), [], { timeoutMs: 3_000 });
    assert.equal(r.nginx, false);
    assert.match(
      describeReadiness(r, port),
      new RegExp(`^nothing answered HTTP on port 80 \\(127\\.0\\.0\\.1:${port}\\) within \\d+ s \\(last try: no answer within 5 s\\)`),
    );
  });
});
