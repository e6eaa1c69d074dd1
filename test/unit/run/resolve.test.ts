/**
 * src/run/resolve.ts: the runs of a command, complete, checked and canonical before any work; a setting
 * that does nothing for every run refused or noted per the option table; every experiment preset
 * resolves; each registry entry says what its rates are.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError } from '../../../src/errors.js';
import { PRESETS } from '../../../src/experiments/presets.js';
import { MODEL_NAMES, modelEntry, rateMeaning } from '../../../src/run/models.js';
import { canonicalConfig, completeConfig, DEFAULT_CONFIG, RUN_OPTIONS } from '../../../src/run/options.js';
import { resolveRuns } from '../../../src/run/resolve.js';
import type { RunConfig } from '../../../src/run/config.js';

/** Asserts `fn` throws one ArgumentError line matching `re`. */
function refuses(fn: () => unknown, re: RegExp): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof ArgumentError && re.test(e.message) && !e.message.includes('\n'),
  );
}

describe('resolveRuns', () => {
  test("each run is complete with its model's defaults, and canonical", () => {
    const { configs, notes } = resolveRuns({ epochs: 2, trainLimit: 60_000 }, [
      { model: 'dropout-mlp' },
      { model: 'vit' },
    ]);
    assert.deepEqual(notes, []);
    assert.deepEqual(configs[0], { ...DEFAULT_CONFIG, epochs: 2 });
    assert.deepEqual(configs[1], canonicalConfig(completeConfig({ model: 'vit', epochs: 2 })));
    assert.equal(configs[1]!.optimizer, 'adamw');
    assert.equal(configs[1]!.dropout1, 0, 'a ViT without dropout records none');
    assert.equal(configs[0]!.trainLimit, 0, 'all 60000 examples are "all"');
  });

  test('a batch of one under BatchNorm is refused up front, naming the model, before the others train', () => {
    refuses(
      () => resolveRuns({ batchSize: 1 }, [{ model: 'mlp' }, { model: 'dropout-mlp-bn' }]),
      /^dropout-mlp-bn: BatchNorm needs at least 2 examples per training batch, got a batch size of 1/,
    );
    assert.equal(resolveRuns({ batchSize: 1 }, [{ model: 'mlp' }, { model: 'mlp-ln' }]).configs.length, 2);
  });

  test('every run is checked, and the refusal names the model when there are several', () => {
    refuses(
      () => resolveRuns({ momentum: 0.9 }, [{ model: 'mlp' }, { model: 'vit' }]),
      /^vit: run config: momentum is SGD's/,
    );
    refuses(() => resolveRuns({ momentum: 0.9, model: 'vit' }), /^run config: momentum is SGD's/);
    refuses(() => resolveRuns({ dropout1: 2 } as Partial<RunConfig>), /dropout1 must be in \[0, 1\]/);
  });

  test('a setting that does nothing for every run is refused (flag or field spelling); used by one run, it stands', () => {
    refuses(
      () => resolveRuns({ model: 'vit', numHiddens1: 17 }),
      /^--num-hiddens1 does nothing here \(vit does not use it\); drop it\.$/,
    );
    refuses(
      () => resolveRuns({ model: 'vit', rdropAlpha: 1 }, [{}], { spelling: 'fields' }),
      /^rdropAlpha does nothing here/,
    );
    refuses(
      () => resolveRuns({ dropout1: 0.2 }, [{ model: 'mlp' }, { model: 'cnn' }]),
      /mlp, cnn do not use it/,
    );
    assert.equal(
      resolveRuns({ dropout1: 0.2 }, [{ model: 'dropout-mlp' }, { model: 'mlp' }]).configs[0]!.dropout1,
      0.2,
    );
    // The value a model fixes anyway says nothing false: accepted.
    assert.equal(resolveRuns({ model: 'mlp', dropout1: 0 }).configs[0]!.dropout1, 0);
  });

  test("a moot setting whose row says 'warn' is a note; the lab's form (checkUnused off) gets none", () => {
    const sgd = resolveRuns({ beta1: 0.8, warmupEpochs: 1 });
    assert.deepEqual(sgd.notes, [
      'note: --beta1 does nothing here (optimizer sgd has no betas); drop it.',
      'note: --warmup-epochs does nothing here (learning-rate schedule constant has no warm-up); drop it.',
    ]);
    assert.deepEqual(resolveRuns({ model: 'mlp', dropout1: 0.5 }, [{}], { checkUnused: false }).notes, []);
    const shown = resolveRuns({ model: 'mlp', trainLimit: 60_000 }, [{}], {
      checkUnused: false,
      asGiven: true,
    });
    assert.deepEqual([shown.configs[0]!.dropout1, shown.configs[0]!.trainLimit], [0.5, 60_000]);
  });

  test('every experiment preset resolves (no preset asks for a setting that does nothing)', () => {
    for (const preset of Object.values(PRESETS)) {
      const groups = preset.groups(preset.epochs, { trainLimit: 0, samples: 10 });
      const asked = groups.map((g) => {
        const { kind: _k, mcSamples: _s, mcConsistent: _c, ...run } = g.config;
        return run;
      });
      assert.doesNotThrow(
        () => resolveRuns({ epochs: preset.epochs }, asked, { spelling: 'fields' }),
        `preset ${preset.name}`,
      );
    }
  });
});

describe("the registry's rates", () => {
  test('a model names p₁/p₂ exactly when it uses them (it does not fix them to 0)', () => {
    for (const name of MODEL_NAMES) {
      const e = modelEntry(name);
      assert.equal(e.p1 !== undefined, !('dropout1' in e.fixed), `${name} p1`);
      assert.equal(e.p2 !== undefined, !('dropout2' in e.fixed), `${name} p2`);
      assert.equal(e.hasDropout, e.p1 !== undefined || e.p2 !== undefined, `${name} hasDropout`);
    }
  });

  test("--dropout1's and --dropout2's help come from the registry", () => {
    const row = (key: string) => RUN_OPTIONS.find((o) => o.key === key)!;
    assert.equal(row('dropout1').help, `dropout rate p₁: ${rateMeaning('p1')}`);
    assert.match(rateMeaning('p1'), /DropBlock \(3×3 blocks\) after each conv block \(cnn-dropblock\)/);
    assert.match(rateMeaning('p2'), /DropPath .* \(vit-dropout\)/);
    assert.match(rateMeaning('p2'), /not used by mlp, mlp-bn, mlp-ln, cnn, vit$/);
  });
});
