/** The engines of a docker-driver run: one connection per engine address, and the proxies the Docker CLI would pass. */
import type { Platform } from '../config/model.js';
import { connectEngine, describeEndpoint, type Engine } from '../engine/connect.js';
import { proxyBuildArgs } from '../engine/proxy-args.js';

export class EnginePool {
  private readonly engines = new Map<string, Engine>();
  // proxies from the Docker CLI config, per engine address, as `docker build` would pass them
  private readonly proxies = new Map<Platform, Record<string, string>>();

  /** `hosts`: an engine per platform; others use DOCKER_HOST / the local socket. */
  constructor(private readonly hosts: Partial<Record<Platform, string>>) {}

  async engine(platform: Platform): Promise<Engine> {
    const host = this.hosts[platform];
    const key = host ?? 'default';
    let engine = this.engines.get(key);
    if (!engine) {
      engine = await connectEngine(host);
      this.engines.set(key, engine);
    }
    return engine;
  }

  proxy(platform: Platform): Record<string, string> {
    let args = this.proxies.get(platform);
    if (!args) {
      args = proxyBuildArgs(describeEndpoint(this.hosts[platform]));
      this.proxies.set(platform, args);
    }
    return args;
  }
}
