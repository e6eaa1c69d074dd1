/**
 * The README's first command on a bare machine: no system dataset, an empty cache, no official mirror
 * reachable — the data must come from the Debian archive apt is configured with. It downloads the real
 * 30.9 MB package, so it runs in CI (CI=true) or with DROPOUT_LAB_TEST_DEBIAN=1, and skips otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianMirror } from '../../src/node/data/aptSources.js';
import { runCli } from '../helpers/cli.js';

const wanted = process.env['CI'] === 'true' || process.env['DROPOUT_LAB_TEST_DEBIAN'] === '1';

test(
  'npm run compare fetches Fashion-MNIST from the Debian archive with the system dir hidden and an empty cache',
  {
    skip: wanted ? false : 'downloads 30.9 MB; runs with CI=true or DROPOUT_LAB_TEST_DEBIAN=1',
    timeout: 300_000,
  },
  async (t) => {
    const mirror = await debianMirror();
    assert.ok(mirror !== undefined, 'no Debian main archive in /etc/apt (nor $DROPOUT_LAB_DEBIAN_MIRROR)');
    const home = await mkdtemp(join(tmpdir(), 'dropout-lab-first-contact-'));
    try {
      // As in the README, but short: the data step is the same as for the full 10 epochs.
      const args = ['compare', '--epochs', '1', '--train-limit', '512', '--val-limit', '256', '--json'];
      // `npm run compare` is `node dist/cli/main.js compare`, which runCli runs.
      const started = performance.now();
      const r = await runCli(args, {
        env: {
          DROPOUT_LAB_SYSTEM_DATA: join(home, 'no-system-dataset'),
          XDG_CACHE_HOME: join(home, 'cache'),
        },
        timeoutMs: 290_000,
      });
      const seconds = (performance.now() - started) / 1000;
      assert.equal(r.code, 0, r.stderr);
      const events = r.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { event: string });
      assert.equal(events.filter((e) => e.event === 'summary').length, 2);
      const cached = (await readdir(join(home, 'cache', 'dropout-lab', 'fashion-mnist'))).sort();
      assert.deepEqual(cached, [
        't10k-images-idx3-ubyte.gz',
        't10k-labels-idx1-ubyte.gz',
        'train-images-idx3-ubyte.gz',
        'train-labels-idx1-ubyte.gz',
      ]);
      t.diagnostic(`from ${mirror}: the whole run took ${seconds.toFixed(1)} s`);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  },
);
