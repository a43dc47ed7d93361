/**
 * The Docker Engine through dockerode, loaded only by commands that need it. One endpoint per call site:
 * unix socket, tcp:// or ssh:// (DOCKER_HOST style).
 */
import type Dockerode from 'dockerode';
import { messageOf, RunError } from '../config/errors.js';

export type Engine = Dockerode;

export function describeEndpoint(host: string | undefined): string {
  return host ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

function optionsFor(host: string | undefined): Dockerode.DockerOptions {
  const h = host ?? process.env.DOCKER_HOST;
  if (!h || h.startsWith('unix://')) return { socketPath: h ? h.slice('unix://'.length) : '/var/run/docker.sock' };
  const u = new URL(h);
  if (u.protocol === 'tcp:' || u.protocol === 'http:') return { host: u.hostname, port: Number(u.port || 2375), protocol: 'http' };
  if (u.protocol === 'https:') return { host: u.hostname, port: Number(u.port || 2376), protocol: 'https' };
  if (u.protocol === 'ssh:')
    return { host: u.hostname, port: Number(u.port || 22), protocol: 'ssh', ...(u.username ? { username: u.username } : {}) };
  throw new RunError(`unsupported engine address ${h}`, { fix: 'use unix:///path, tcp://host:port or ssh://user@host' });
}

/**
 * A fresh connection per request. Node's global agent keeps sockets alive, and dockerd closes a connection idle for
 * 5 minutes; when the event loop was busy at that moment (a long build, a synchronous child), the next request was
 * written to the closed socket and failed with EPIPE. A unix-socket connect costs microseconds.
 */
async function freshConnections(protocol: Dockerode.DockerOptions['protocol']): Promise<{ agent?: import('node:http').Agent }> {
  if (protocol === 'ssh') return {};
  const { Agent } = protocol === 'https' ? await import('node:https') : await import('node:http');
  return { agent: new Agent({ keepAlive: false }) };
}

/** Connects and pings (bounded), so a missing daemon gives one clear message instead of a stack trace later. */
export async function connectEngine(host?: string, timeoutMs = 10_000): Promise<Engine> {
  const { default: Docker } = await import('dockerode');
  const options = optionsFor(host);
  const engine = new Docker({ ...options, ...(await freshConnections(options.protocol)), timeout: 0 });
  const endpoint = describeEndpoint(host);
  try {
    await Promise.race([
      engine.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs).unref()),
    ]);
  } catch (e) {
    throw new RunError(`Docker Engine not reachable at ${endpoint}: ${messageOf(e)}`, {
      fix: 'start dockerd (e.g. `sudo systemctl start docker`), or point DOCKER_HOST / --engine at a running engine',
      cause: e,
    });
  }
  return engine;
}
