/**
 * The README's promise to contributors: a new layer and a new flavor are YAML and shell files, no TypeScript. In a
 * temporary copy of the production catalog a layer (with a version in .dockerargs, as layers keep theirs) and a
 * flavor using it are added as files only, then the built CLI lists the flavor, generates a Dockerfile that runs the
 * layer's script, and plans it on its parent; the golden tests (which enumerate the catalog) pick it up too.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { catalogProfiles, loadCatalog } from '../helpers/catalog-golden.js';
import { cleanup, REPO_ROOT, runCli } from '../helpers/project.js';

const LAYER = 'hello-contrib';
const FLAVOR = 'coder/hello-contrib';

/** What a contributor writes: a layer manifest, its script, a flavor manifest, and the version in .dockerargs. */
const CONTRIBUTION = {
  [`flavors/layers/${LAYER}.yaml`]: `description: Writes a greeting (a contributor's layer).\nrun: install.sh\nrequires: [skel]\nargs:\n  HELLO_VERSION: null\nenv:\n  HELLO_VERSION: \${HELLO_VERSION}\n`,
  [`artifacts/layers/${LAYER}/install.sh`]: '#!/usr/bin/env bash\nset -euo pipefail\necho "hello $HELLO_VERSION" > /etc/hello\n',
  [`flavors/${FLAVOR}/flavor.yaml`]: `description: coder/base with a greeting.\nfrom:\n  parent: coder/base\nlayers:\n  - ${LAYER}\n`,
};

/** A copy of the production catalog: manifests, artifacts and every .dockerargs file (nothing of src/). */
function copyCatalog(): string {
  const dir = mkdtempSync(join(tmpdir(), 'idekube-contrib-'));
  for (const entry of ['flavors', 'artifacts', ...readdirSync(REPO_ROOT).filter((f) => /^\.dockerargs(\.|$)/.test(f))]) {
    cpSync(join(REPO_ROOT, entry), join(dir, entry), { recursive: true });
  }
  return dir;
}

describe('contributor path: a new layer and flavor as YAML + shell, no TypeScript', () => {
  let dir: string;
  before(() => {
    dir = copyCatalog();
    for (const [rel, text] of Object.entries(CONTRIBUTION)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
    }
    appendFileSync(join(dir, '.dockerargs'), "\n# the contributor's layer\nHELLO_VERSION=1.2.3\n");
  });
  after(() => cleanup(dir));

  it('list shows the new flavor on its parent with the new layer, and warns about nothing', () => {
    const r = runCli(['-C', dir, 'list']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'HELLO_VERSION is read by the new layer, so it is no unknown key');
    assert.ok(r.stdout.split('\n').includes(`${FLAVOR}\tcoder/base\tlinux/amd64,linux/arm64\t${LAYER}`), r.stdout);
  });

  it("generate writes a Dockerfile that runs the new layer's script with its version, and the script in the context", () => {
    const out = join(dir, 'out');
    const r = runCli(['-C', dir, '--git-tag', 'v0.0.0', 'generate', FLAVOR, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const dockerfile = readFileSync(join(out, FLAVOR, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^FROM \$\{IDEKUBE_PARENT\}$/m);
    assert.match(dockerfile, /^ARG IDEKUBE_PARENT=docker\.io\/davidliyutong\/idekube-container:coder-base-v0\.0\.0$/m);
    assert.match(dockerfile, new RegExp(`^# layer ${LAYER}: Writes a greeting`, 'm'));
    assert.match(dockerfile, /^ARG HELLO_VERSION=1\.2\.3$/m);
    assert.match(dockerfile, new RegExp(`--mount=type=bind,source=layers/${LAYER},target=/tmp/idekube/layers/${LAYER} `));
    assert.match(dockerfile, new RegExp(`\\["bash", "/tmp/idekube/build/run-layer\\.sh", "/tmp/idekube/layers/${LAYER}/install\\.sh"\\]`));
    const script = join(out, FLAVOR, 'layers', LAYER, 'install.sh');
    assert.equal(readFileSync(script, 'utf8'), CONTRIBUTION[`artifacts/layers/${LAYER}/install.sh`]);
    assert.equal(statSync(script).mode & 0o111, 0o111, 'the script stays executable');
  });

  it('plan --json builds the new flavor on its parent, for both platforms, with its version', () => {
    const r = runCli(['-C', dir, '--git-tag', 'v0.0.0', '--json', 'plan', FLAVOR]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as {
      images: { flavor: string; reason: string }[];
      targets: { id: string; dependsOn?: string[]; buildArgs: Record<string, string> }[];
    };
    assert.deepEqual(
      plan.images.map((i) => [i.flavor, i.reason]),
      [
        ['coder/base', 'parent'],
        [FLAVOR, 'selected'],
      ],
    );
    for (const arch of ['amd64', 'arm64']) {
      const t = plan.targets.find((x) => x.id === `${FLAVOR}@linux/${arch}`);
      assert.ok(t, `no target ${FLAVOR}@linux/${arch}`);
      assert.deepEqual(t.dependsOn, [`coder/base@linux/${arch}`]);
      assert.equal(t.buildArgs.HELLO_VERSION, '1.2.3');
    }
  });

  it('the golden tests would cover it: the catalog they enumerate has it, under every profile', () => {
    for (const profile of catalogProfiles(dir)) assert.ok(loadCatalog(profile, 'v0.0.0', dir).catalog.order.includes(FLAVOR), profile);
  });
});
