/** Push one tag through the Engine, with the Docker config's credentials; a failed layer fails the push. */
import { RunError } from '../config/errors.js';
import { engineAuth } from '../registry/credentials.js';
import { parseRef, splitTag } from '../config/image-ref.js';
import type { Engine } from './connect.js';

/** A progress event of POST /images/{name}/push, as far as it is read here. */
interface PushEvent {
  id?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string };
}

export async function pushTag(
  engine: Engine,
  ref: string,
  opts: { signal?: AbortSignal; onStatus?: (s: string) => void } = {},
): Promise<string> {
  const { registry } = parseRef(ref);
  const { name, tag } = splitTag(ref);
  const auth = engineAuth(registry);
  const stream = (await engine.getImage(name).push({
    tag,
    ...(auth ? { authconfig: auth } : {}),
    ...(opts.signal ? { abortSignal: opts.signal } : {}),
  } as never)) as unknown as NodeJS.ReadableStream;
  let digest = '';
  let failure: string | undefined;
  await new Promise<void>((resolve, reject) => {
    engine.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(new RunError(`push of ${ref} failed: ${err.message}`, { cause: err })) : resolve()),
      (ev: PushEvent) => {
        if (ev.error || ev.errorDetail) failure = ev.errorDetail?.message ?? ev.error;
        if (ev.aux?.Digest) digest = ev.aux.Digest;
        // dockerd 28 with the containerd image store sends no aux event, only "<tag>: digest: sha256:… size: N"
        const said = typeof ev.status === 'string' ? /\bdigest: (sha256:[0-9a-f]{64})\b/.exec(ev.status) : null;
        if (!digest && said) digest = said[1]!;
        if (ev.status && opts.onStatus) opts.onStatus(`${ev.id ? `${ev.id}: ` : ''}${ev.status}`);
      },
    );
  });
  if (failure) {
    throw new RunError(`push of ${ref} failed: ${failure}`, {
      fix: /denied|unauthorized|authentication/i.test(failure) ? `log in: docker login ${registry}` : `check that ${registry} is reachable`,
    });
  }
  if (!digest) throw new RunError(`push of ${ref} ended without a digest`);
  return digest;
}
