// The lab's pure parts, in Node: the settings table and its URL form, the chart's divergence rules and
// number format, the CSV/JSON-lines exports, and the WCAG contrast of both colour themes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BoardPoint, EpochMetrics } from '../../../src/train/index.js';
import { divergedAt, formatValue, offScale, Y_CAP } from '../../../src/web/chart.js';
import { metricsCsv, metricsJsonl, type ExportRun } from '../../../src/web/export.js';
import {
  CHOICE_FIELDS,
  fromQuery,
  isChoiceField,
  NUMBER_FIELDS,
  parseChoice,
  parseField,
  parseModel,
  RUN_FORM_FIELDS,
  toQuery,
} from '../../../src/web/fields.js';
import { DEFAULT_CONFIG, optionsFor, parseOption } from '../../../src/run/options.js';

const field = (key: string): (typeof NUMBER_FIELDS)[number] => {
  const f = NUMBER_FIELDS.find((g) => g.key === key);
  assert.ok(f, key);
  return f;
};

test('settings: URL keys are the CLI option names, and limits match the CLI parsers', () => {
  // Both come from one option table: every run field is a `train` flag and accepts exactly what it does.
  const trainFlags = optionsFor('train');
  for (const f of NUMBER_FIELDS.filter((g) => g.group === 'run')) {
    const o = trainFlags.find((t) => t.flag === `--${f.key}`);
    assert.ok(o, `--${f.key} is a CLI option`);
    for (const text of ['-1', '0', '0.5', '1', '2.5', '60000', '1e9', '', 'x']) {
      assert.equal(parseField(f, text).ok, parseOption(o, text).ok, `--${f.key} ${text}`);
    }
  }
  for (const key of ['momentum', 'weight-decay']) assert.ok(field(key), `the lab has ${key}`);
  assert.deepEqual(parseField(field('lr'), '0.1'), { ok: true, value: 0.1 });
  assert.equal(parseField(field('lr'), '0').ok, false, 'lr must be positive, as --lr');
  assert.equal(parseField(field('dropout1'), '1').ok, true);
  assert.equal(parseField(field('dropout1'), '1.01').ok, false);
  assert.equal(parseField(field('batch-size'), '2.5').ok, false, 'integers only');
  assert.equal(parseField(field('train-limit'), '').ok, false);
  const bad = parseField(field('images'), '0');
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.error, "Images must be an integer in [1, 200]; got '0'.");
  assert.equal(parseModel('dropout-mlp-scratch').ok, true);
  assert.equal(parseModel('resnet').ok, false);
  // Float steps count from min = 0, so the arrow keys stay on the grid (0.1 → 0.11, not 0.1001).
  for (const f of NUMBER_FIELDS) {
    if (!f.integer) assert.equal(f.min, 0, `${f.key}: step base 0`);
    else assert.equal(f.step, 1, `${f.key}: integer step 1`);
  }
});

test("settings: the option table's choice rows are the lab's select fields, in the URL and validated", () => {
  // Every lab choice row but the model (its own menu) is a choice field with the table's names and default.
  const rows = optionsFor('lab').filter((o) => o.kind === 'choice' && o.key !== 'model');
  assert.deepEqual(
    CHOICE_FIELDS.map((f) => f.runKey),
    rows.map((o) => o.key),
  );
  for (const key of ['variant', 'dropMode', 'dropSchedule'] as const)
    assert.ok(
      CHOICE_FIELDS.some((f) => f.runKey === key),
      `the lab has ${key}`,
    );
  for (const f of CHOICE_FIELDS) {
    const o = rows.find((r) => r.key === f.runKey)!;
    assert.equal(f.key, o.flag.slice(2), 'URL key = CLI option name');
    assert.deepEqual(f.choices, o.kind === 'choice' ? o.choices : []);
    assert.equal(f.defaultValue, DEFAULT_CONFIG[f.runKey]);
    for (const text of [...f.choices, '', 'sideways', f.choices[0]!.toUpperCase()]) {
      assert.equal(parseChoice(f, text).ok, parseOption(o, text).ok, `--${f.key} ${text}`);
    }
  }
  const mode = CHOICE_FIELDS.find((f) => f.key === 'drop-mode')!;
  const bad = parseChoice(mode, 'sideways');
  assert.equal(!bad.ok && bad.error, "Drop mode must be one of standard, early, late; got 'sideways'.");
  // The form draws numbers and choices in the table's order.
  const order = optionsFor('lab').map((o) => o.key);
  const drawn = RUN_FORM_FIELDS.map((f) => f.runKey!);
  assert.deepEqual(
    drawn,
    order.filter((k) => drawn.includes(k)),
  );
  assert.ok(RUN_FORM_FIELDS.some(isChoiceField) && !RUN_FORM_FIELDS.every(isChoiceField));
  // Choices ride in the address bar, after the number fields, and come back as text.
  const values = {
    model: 'mlp',
    epochs: '3',
    'drop-mode': 'early',
    'cutoff-epoch': '1',
    variant: 'gaussian',
  };
  const q = toQuery(values);
  assert.equal(q, 'model=mlp&cutoff-epoch=1&epochs=3&variant=gaussian&drop-mode=early');
  assert.deepEqual(fromQuery(`?${q}`), values);
});

test('settings: the query string round-trips and ignores unknown keys', () => {
  const values = { model: 'mlp', dropout1: '0.2', epochs: '3', 'train-limit': '2000' };
  const q = toQuery(values);
  assert.equal(q, 'model=mlp&dropout1=0.2&epochs=3&train-limit=2000');
  assert.deepEqual(fromQuery(`?${q}&evil=1`), values);
  assert.deepEqual(fromQuery('?model=dropout-mlp&dropout1=0.2&epochs=3'), {
    model: 'dropout-mlp',
    dropout1: '0.2',
    epochs: '3',
  });
});

test('chart: a diverged loss is off scale, named in the table without 19 digits', () => {
  const pts: BoardPoint[] = [
    { metric: 'train_loss', epoch: 0.5, value: 2.1 },
    { metric: 'val_loss', epoch: 1, value: 5.5e27 },
    { metric: 'val_acc', epoch: 1, value: 0.1 },
  ];
  assert.equal(offScale(pts[0]!), false);
  assert.equal(offScale(pts[1]!), true);
  assert.equal(offScale({ metric: 'train_loss', epoch: 1, value: Number.NaN }), true);
  assert.equal(divergedAt(pts), 1);
  assert.equal(divergedAt(pts.slice(0, 1)), undefined);
  assert.ok(Y_CAP > 2.31 * 5, 'a normal loss (ln 10 at the start) stays on the chart');
  assert.equal(formatValue(4717196022841188352), '4.72e+18');
  assert.equal(formatValue(0.123456), '0.1235');
  assert.equal(formatValue(Number.NaN), 'NaN');
  assert.equal(formatValue(Number.POSITIVE_INFINITY), '∞');
});

test('exports: CSV and JSON lines in the CLI names', () => {
  const m = (epoch: number, valLoss: number): EpochMetrics => ({
    epoch,
    trainLoss: 0.5,
    valLoss,
    valAcc: 0.8,
    epochSeconds: 1.5,
    samplesPerSecond: 1000,
  });
  const runs: ExportRun[] = [
    {
      id: 3,
      config: {
        ...DEFAULT_CONFIG,
        model: 'mlp',
        dropout1: 0.5,
        dropout2: 0.5,
        batchSize: 256,
        lr: 0.1,
        epochs: 2,
        trainLimit: 60000,
        valLimit: 10000,
        seed: 0,
        numHiddens1: 256,
        numHiddens2: 256,
      },
      epochs: [m(1, 0.6), m(2, Number.POSITIVE_INFINITY)],
    },
  ];
  const csv = metricsCsv(runs).trim().split('\n');
  assert.equal(csv.length, 3);
  assert.equal(
    csv[0],
    'run,model,variant,dropout1,dropout2,batch_size,lr,momentum,weight_decay,drop_mode,drop_schedule,cutoff_epoch,rdrop_alpha,epochs,seed,train_limit,val_limit,' +
      'epoch,train_loss,val_loss,val_acc,epoch_seconds,samples_per_second',
  );
  assert.equal(
    csv[1],
    '3,mlp,bernoulli,0,0,256,0.1,0,0,standard,constant,0,0,2,0,60000,10000,1,0.5,0.6,0.8,1.5,1000',
  );
  const lines = metricsJsonl(runs)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines[0], {
    event: 'epoch',
    model: 'mlp',
    epoch: 1,
    train_loss: 0.5,
    val_loss: 0.6,
    val_acc: 0.8,
    epoch_seconds: 1.5,
    samples_per_second: 1000,
    run: 3,
    variant: 'bernoulli',
    drop_mode: 'standard',
    drop_schedule: 'constant',
    cutoff_epoch: 0,
    dropout1: 0,
    dropout2: 0,
    lr: 0.1,
    momentum: 0,
    weight_decay: 0,
    rdrop_alpha: 0,
    epochs: 2,
    batch_size: 256,
    seed: 0,
    train_limit: 60000,
    val_limit: 10000,
  });
  assert.equal(lines[1]!['val_loss'], null, 'a non-finite value is null, as JSON writes it');
});

// ---- WCAG contrast of the two themes in style.css. ----

function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const lin = c.map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * lin[0]! + 0.7152 * lin[1]! + 0.0722 * lin[2]!;
}

/** WCAG 2 contrast ratio of two #rrggbb colours. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

function themes(): { light: Record<string, string>; dark: Record<string, string> } {
  const css = readFileSync(fileURLToPath(new URL('../../../src/web/style.css', import.meta.url)), 'utf8');
  const vars = (block: string): Record<string, string> =>
    Object.fromEntries([...block.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6});/gi)].map((m) => [m[1]!, m[2]!]));
  const darkStart = css.indexOf('@media (prefers-color-scheme: dark)');
  assert.ok(darkStart > 0, 'a dark theme');
  const light = vars(css.slice(0, darkStart));
  const dark = vars(css.slice(darkStart, css.indexOf('\n}\n', darkStart)));
  return { light, dark };
}

// [foreground, background] pairs: text needs 4.5:1, graphics (lines, units, borders, bars) 3:1.
const TEXT: readonly [string, string][] = [
  ['fg', 'bg'],
  ['fg', 'panel'],
  ['muted', 'bg'],
  ['muted', 'panel'],
  ['link', 'panel'],
  ['on-accent', 'accent'],
  ['danger', 'bg'],
  ['fg', 'danger-bg'],
  ['fg', 'cell'],
  ['cell-dropped-fg', 'cell-dropped'],
];
const GRAPHICS: readonly [string, string][] = [
  ['control', 'bg'],
  ['axis', 'bg'],
  ['unit', 'bg'],
  ['dropped', 'bg'],
  ['focus', 'bg'],
  ['danger', 'bg'],
  ['accent', 'bg'],
  ['fill', 'track'],
  ['whisker', 'fill'],
  ['whisker', 'track'],
  ['evaltick', 'track'],
  ['evaltick', 'bg'],
  ...Array.from({ length: 8 }, (_, i): [string, string] => [`run-${i}`, 'bg']),
];

test('theme: text ≥ 4.5:1 and graphics ≥ 3:1 in light and dark mode (WCAG AA)', (t) => {
  for (const [name, vars] of Object.entries(themes())) {
    const report: string[] = [];
    for (const [pairs, min] of [
      [TEXT, 4.5],
      [GRAPHICS, 3],
    ] as const) {
      for (const [fg, bg] of pairs) {
        assert.ok(vars[fg] && vars[bg], `${name}: --${fg} and --${bg} are defined`);
        const r = contrast(vars[fg], vars[bg]);
        report.push(`${fg}/${bg} ${r.toFixed(2)}`);
        assert.ok(r >= min, `${name}: --${fg} on --${bg} is ${r.toFixed(2)}:1 < ${min}:1`);
      }
    }
    t.diagnostic(`${name}: ${report.join(', ')}`);
  }
});
