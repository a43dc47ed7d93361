/**
 * Start-up hooks: a hook mounted into /etc/idekube/startup.bash (a volume, the file mode 0644 as Kubernetes
 * mounts ConfigMaps) runs at start, as root, before the services.
 */
import type { Exec } from '../exec.js';
import { fail } from '../types.js';

export const HOOKS_DIR = '/etc/idekube/startup.bash';
export const HOOK_NAME = '50-idekube-test.sh';
export const HOOK_OUTPUT = '/tmp/idekube-test-hook';

/** The hook: records its uid and whether supervisord was already running. Fixed text. */
export const HOOK_TEXT = [
  '# written by `idekube test`: proves that start-up hooks mounted here run',
  'running=no',
  'for d in /proc/[0-9]*; do case "$(cat "$d/comm" 2>/dev/null)" in supervisord) running=yes ;; esac; done',
  'printf "uid=%s supervisord-running=%s\\n" "$(id -u)" "$running" > /tmp/idekube-test-hook',
  '',
].join('\n');

export async function checkHooks(exec: Exec): Promise<string> {
  const r = await exec(['cat', HOOK_OUTPUT], { timeoutMs: 15_000 });
  if (r.code !== 0) fail(`the hook mounted at ${HOOKS_DIR}/${HOOK_NAME} did not run (${HOOK_OUTPUT} missing)`);
  const out = r.stdout.trim();
  if (!/^uid=0\b/.test(out)) fail(`the hook ran, but not as root: ${out}`);
  if (/supervisord-running=yes/.test(out)) fail(`the hook ran after the services had started: ${out}`);
  return `${HOOKS_DIR}/${HOOK_NAME} (mounted, mode 0644) ran as root before the services`;
}
