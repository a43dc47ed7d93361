/**
 * Build secrets through the real engines (dockerd 20.10 with its classic store, dockerd 28 with the containerd store):
 * `buildImage` with `secrets` opens a BuildKit session, a RUN step reads the secret through
 * `--mount=type=secret`, an optional one that is not offered is absent, the secret stays out of the image and out of
 * the cache key, and a required one that is not offered fails the build by name.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { RunError } from '../../src/config/errors.js';
import { buildImage, type BuildRequest, type BuildResult } from '../../src/engine/build.js';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { removeImages, runId, runOnce, testEnv } from '../helpers/env.js';

const env = testEnv();
const id = runId();
const base = `${env.baseImage}-amd64`;
const BUILD_MS = 240_000;

const SECRET_STEP =
  `RUN --mount=type=secret,id=s1,target=/run/secrets/s1 --mount=type=secret,id=absent,required=false,target=/run/secrets/absent ` +
  `sh -c 'test ! -e /run/secrets/absent && sha256sum /run/secrets/s1 | cut -d" " -f1 > /secret-sum'`;

/** Concatenated contents of a tar (and of gzip-compressed members, as the containerd store exports layers). */
function* tarContents(tar: Buffer): Generator<Buffer> {
  for (let pos = 0; pos + 512 <= tar.length; ) {
    const header = tar.subarray(pos, pos + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const body = tar.subarray(pos + 512, pos + 512 + size);
    if (body[0] === 0x1f && body[1] === 0x8b) yield gunzipSync(body);
    else if (body.length >= 4 && body.readUInt32BE(0) === 0x28b52ffd) throw new Error('a zstd layer: cannot look inside it here');
    else yield body;
    pos += 512 + Math.ceil(size / 512) * 512;
  }
}

async function exportImage(engine: Engine, image: string): Promise<Buffer> {
  const stream = (await engine.getImage(image).get()) as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const ENGINES = [
  { name: 'dockerd 20.10 (classic store)', host: undefined },
  { name: 'dockerd 28 (containerd store)', host: env.current.DOCKER_HOST },
];

for (const target of ENGINES) {
  describe(`build secrets on ${target.name}`, { timeout: 600_000 }, () => {
    let engine: Engine;
    let dir: string;
    let secretFile: string;
    let marker: string;
    const tags: string[] = [];
    const images: string[] = [];
    let first: BuildResult & { ms: number };

    const build = async (contextDir: string, secrets: Record<string, string>): Promise<BuildResult & { ms: number }> => {
      const tag = `idekube-it/secrets:${id}-${target.host ? 'e2' : 'e1'}-${tags.length}`;
      tags.push(tag);
      const req: BuildRequest = {
        contextDir,
        platform: 'linux/amd64',
        tags: [tag],
        network: 'none',
        secrets,
        signal: AbortSignal.timeout(BUILD_MS),
      };
      const t0 = Date.now();
      const r = await buildImage(engine, req);
      images.push(r.imageId);
      return { ...r, ms: Date.now() - t0 };
    };

    before(async () => {
      engine = await connectEngine(target.host);
      dir = mkdtempSync(join(tmpdir(), 'idekube-secrets-'));
      const ctx = join(dir, 'ctx');
      const required = join(dir, 'ctx-required');
      for (const d of [ctx, required]) mkdirSync(d);
      // The first step is unique to this run, so the secret step really runs once here before being cached.
      writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base}\nRUN echo ${id} > /run-id\n${SECRET_STEP}\n`);
      writeFileSync(
        join(required, 'Dockerfile'),
        `FROM ${base}\nRUN --mount=type=secret,id=missing-${id},required=true,target=/run/secrets/m cat /run/secrets/m\n`,
      );
      marker = `idekube-secret-marker-${randomBytes(16).toString('hex')}`;
      secretFile = join(dir, 'secret');
      writeFileSync(secretFile, `${marker}\n`);
    });
    after(async () => {
      if (engine) await removeImages(engine, [...tags, ...images]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('a RUN step reads the secret; an optional one not offered is absent', async (t) => {
      first = await build(join(dir, 'ctx'), { s1: secretFile });
      t.diagnostic(`first build ${first.ms} ms, executed ${first.executed.length}, cached ${first.cached.length}`);
      assert.ok(
        first.executed.some((s) => s.name.includes('--mount=type=secret,id=s1')),
        first.executed.map((s) => s.name).join('\n'),
      );
      const sum = createHash('sha256').update(`${marker}\n`).digest('hex');
      const out = await runOnce(engine, first.imageId, ['cat', '/secret-sum']);
      assert.equal(out.code, 0, out.output);
      assert.equal(out.output.trim(), sum);
    });

    it('the secret is nowhere in the image (layers, config, history)', async () => {
      const tar = await exportImage(engine, first.imageId);
      const sum = createHash('sha256').update(`${marker}\n`).digest('hex');
      let sawSum = false;
      for (const content of tarContents(tar)) {
        assert.equal(content.indexOf(marker), -1, 'the secret marker is in the exported image');
        sawSum ||= content.indexOf(sum) >= 0;
      }
      // the positive control: the layer the step wrote can be searched (so the search above could have found the secret)
      assert.ok(sawSum, 'the /secret-sum layer was not found in the export');
    });

    it('another secret content does not change the cache key: the step is cached', async (t) => {
      writeFileSync(secretFile, `another-${marker}\n`);
      const second = await build(join(dir, 'ctx'), { s1: secretFile });
      t.diagnostic(
        `second build ${second.ms} ms, executed ${second.executed.length}, cached ${second.cached.length}, same image id: ${second.imageId === first.imageId}`,
      );
      assert.deepEqual(
        second.executed.map((s) => s.name),
        [],
      );
      assert.ok(
        second.cached.some((s) => s.name.includes('--mount=type=secret,id=s1')),
        second.cached.map((s) => s.name).join('\n'),
      );
      const out = await runOnce(engine, second.imageId, ['cat', '/secret-sum']);
      assert.equal(out.output.trim(), createHash('sha256').update(`${marker}\n`).digest('hex'), 'the cached layer keeps the first sum');
    });

    // (a secret mount is optional unless it says required=true: then a missing one fails the step as it starts)
    it('a required secret that is not offered fails the build, naming it', async (t) => {
      const t0 = Date.now();
      await assert.rejects(build(join(dir, 'ctx-required'), { s1: secretFile }), (e: Error) => {
        assert.ok(e instanceof RunError, String(e));
        assert.match(e.message, new RegExp(`^build failed: .*secret missing-${id}:? not found`));
        return true;
      });
      t.diagnostic(`failed in ${Date.now() - t0} ms`);
    });
  });
}
