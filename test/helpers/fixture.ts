/** The fixture catalog (test/fixtures/catalog): where it is, where it publishes, what each flavor declares. */
import { REPO_ROOT } from './project.js';

export const FIXTURE = `${REPO_ROOT}/test/fixtures/catalog`;
export const FIXTURE_REPO = 'idekube-test/fixture';
/** Every flavor with the platforms its manifest declares. */
export const FIXTURE_PLATFORMS: Readonly<Record<string, readonly string[]>> = {
  'web/base': ['linux/amd64', 'linux/arm64'],
  'web/extra': ['linux/amd64', 'linux/arm64'],
  'web/jupyter': ['linux/amd64'],
  'desk/base': ['linux/amd64'],
};
