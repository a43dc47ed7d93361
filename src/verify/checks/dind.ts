/** check: dind — the Docker daemon inside the container answers (`docker info`). */
import type { Exec } from '../exec.js';
import { fail } from '../types.js';
import { poll } from '../wait.js';

export async function checkDind(exec: Exec, timeoutMs: number): Promise<string> {
  let last = '';
  const { value } = await poll(
    async () => {
      const r = await exec(['docker', 'info', '--format', '{{.ServerVersion}} {{.Driver}}'], { timeoutMs: 20_000 });
      last = (r.stderr || r.stdout).trim();
      return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
    },
    { timeoutMs, intervalMs: 2000 },
  );
  if (!value)
    fail(
      `\`docker info\` inside the container did not succeed within ${Math.round(timeoutMs / 1000)} s: ${last.split('\n').slice(-2).join(' ') || 'no output'} (dind needs a privileged container)`,
    );
  const [version, driver] = value.split(' ');
  return `dockerd ${version} answers inside the container (storage ${driver})`;
}
