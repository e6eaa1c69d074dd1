/**
 * The lab's settings form: its run fields and model menu are drawn from the option table (through
 * fields.ts), validated as the CLI validates its flags, mirrored into the address bar (a shareable
 * link) and read back into a RunConfig. index.html only marks where the fields go.
 */
import type { RunConfig } from '../run/config.js';
import { ArgumentError } from '../errors.js';
import { modelEntry } from '../run/models.js';
import { completeConfig } from '../run/options.js';
import { resolveRuns } from '../run/resolve.js';
import {
  CHOICE_FIELDS,
  DEFAULT_MODEL,
  fromQuery,
  isChoiceField,
  MODEL_KEY,
  NUMBER_FIELDS,
  parseChoice,
  parseField,
  parseModel,
  RUN_FORM_FIELDS,
  toQuery,
  type ChoiceField,
  type NumberField,
} from './fields.js';
import { LAB_MODELS } from './protocol.js';

/** The element with `id`; a missing one is a bug of the page, reported by name. */
export function byId<T extends HTMLElement | SVGElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
}

/** A field's element (a number input, or a <select> of a choice row's names), with one line of text beside it for its error. */
function fieldCell(f: NumberField | ChoiceField): HTMLDivElement {
  const cell = document.createElement('div');
  const label = document.createElement('label');
  label.htmlFor = f.id;
  label.id = `${f.id}-label`;
  label.textContent = f.label;
  let el: HTMLInputElement | HTMLSelectElement;
  if (isChoiceField(f)) {
    el = document.createElement('select');
    el.replaceChildren(...f.choices.map((c) => new Option(c, c, c === f.defaultValue, c === f.defaultValue)));
    el.name = f.key;
  } else {
    el = document.createElement('input');
    el.type = 'number';
    el.value = String(f.defaultValue);
  }
  el.id = f.id;
  el.setAttribute('aria-describedby', `${f.id}-err`);
  const err = document.createElement('p');
  err.id = `${f.id}-err`;
  err.className = 'field-error';
  err.hidden = true;
  cell.append(label, el, err);
  return cell;
}

/** Opens the folded group (<details>) around `el`, if any, so a marked or linked field is seen. */
function unfold(el: HTMLElement | SVGElement): void {
  const details = el.closest('details');
  if (details !== null) details.open = true;
}

/** The settings form of the lab page. */
export class SettingsForm {
  /** The engine the address bar asks for (`?backend=wasm|webgpu|js`), read once; the worker checks it. */
  readonly backendParam = new URLSearchParams(location.search).get('backend');
  /** The model whose defaults the fields show (the menu's value before its latest change). */
  private modelShown: string = DEFAULT_MODEL;

  /** Draws the run fields (two per row) and the model menu, and gives every input its limits. */
  constructor(
    private readonly modelSelect: HTMLSelectElement,
    private readonly setStatus: (text: string) => void,
  ) {
    const host = byId<HTMLDivElement>('run-fields');
    const pairs = (fields: readonly (NumberField | ChoiceField)[]): HTMLDivElement[] => {
      const out: HTMLDivElement[] = [];
      for (let i = 0; i < fields.length; i += 2) {
        const pair = document.createElement('div');
        pair.className = 'pair';
        pair.append(...fields.slice(i, i + 2).map(fieldCell));
        out.push(pair);
      }
      return out;
    };
    host.append(...pairs(RUN_FORM_FIELDS.filter((f) => f.more === undefined)));
    // Folded groups (the option table's lab.more) after the book's settings, one <details> each.
    for (const more of new Set(RUN_FORM_FIELDS.flatMap((f) => (f.more === undefined ? [] : [f.more])))) {
      const details = document.createElement('details');
      details.className = 'more-fields';
      const summary = document.createElement('summary');
      summary.textContent = more;
      details.append(summary, ...pairs(RUN_FORM_FIELDS.filter((f) => f.more === more)));
      host.append(details);
    }
    modelSelect.replaceChildren(
      ...LAB_MODELS.map((name) => new Option(modelEntry(name).description, name, name === DEFAULT_MODEL)),
    );
    for (const f of NUMBER_FIELDS) {
      const el = this.input(f);
      el.name = f.key;
      el.min = String(f.min);
      el.max = String(f.max);
      // Steps count from min (HTML's step base): a float field's min is 0, so 0.1 + 0.01 stays on the grid.
      el.step = String(f.step);
      el.inputMode = f.integer ? 'numeric' : 'decimal';
    }
  }

  /** A field's input element. */
  readonly input = (f: NumberField): HTMLInputElement => byId<HTMLInputElement>(f.id);

  /** A choice field's select element. */
  readonly select = (f: ChoiceField): HTMLSelectElement => byId<HTMLSelectElement>(f.id);

  /** Validates a choice field (an address bar may name anything), marks it and returns its value or error. */
  readonly checkChoice = (
    f: ChoiceField,
    text = this.select(f).value,
  ): { value?: string; error?: string } => {
    const parsed = parseChoice(f, text);
    this.mark(f.id, parsed.ok ? undefined : parsed.error);
    return parsed.ok ? { value: parsed.value } : { error: parsed.error };
  };

  /** Marks an element valid or invalid, with its message beside it (unfolding its group if invalid). */
  private mark(id: string, error: string | undefined): void {
    const el = byId(id);
    el.setAttribute('aria-invalid', error === undefined ? 'false' : 'true');
    if (error !== undefined) unfold(el);
    const msg = document.getElementById(`${id}-err`);
    if (msg !== null) {
      msg.hidden = error === undefined;
      msg.textContent = error ?? '';
    }
  }

  /** Validates one field, marks it (aria-invalid, message beside it) and returns its value or error. */
  readonly checkField = (f: NumberField): { value?: number; error?: string } => {
    const el = this.input(f);
    const msg = document.getElementById(`${f.id}-err`);
    if (el.disabled) {
      el.removeAttribute('aria-invalid');
      if (msg !== null) msg.hidden = true;
      return { value: f.defaultValue };
    }
    const parsed = parseField(f, el.value);
    el.setAttribute('aria-invalid', parsed.ok ? 'false' : 'true');
    if (!parsed.ok) unfold(el);
    if (msg !== null) {
      msg.hidden = parsed.ok;
      msg.textContent = parsed.ok ? '' : parsed.error;
    }
    return parsed.ok ? { value: parsed.value } : { error: parsed.error };
  };

  private fieldValues(): Record<string, string> {
    const out: Record<string, string> = { [MODEL_KEY]: this.modelSelect.value };
    for (const f of NUMBER_FIELDS) out[f.key] = this.input(f).value;
    for (const f of CHOICE_FIELDS) out[f.key] = this.select(f).value;
    return out;
  }

  /** Writes the settings into the address bar (replaceState: no history entry per keystroke). */
  syncUrl(): void {
    const p = this.backendParam;
    const engine = p === null ? '' : `&backend=${encodeURIComponent(p)}`;
    const url = `${location.pathname}?${toQuery(this.fieldValues())}${engine}${location.hash}`;
    history.replaceState(null, '', url);
  }

  /** Reads the address bar into the form; unknown or invalid values are marked like typed input. */
  loadUrl(): void {
    const values = fromQuery(location.search);
    // A link that sets a folded field to other than its default shows it.
    for (const f of RUN_FORM_FIELDS) {
      const v = values[f.key];
      if (f.more !== undefined && v !== undefined && v !== String(f.defaultValue)) unfold(byId(f.id));
    }
    const model = values[MODEL_KEY];
    if (model !== undefined) {
      const parsed = parseModel(model);
      if (parsed.ok) {
        this.modelSelect.value = parsed.value;
        // Fields the link leaves out take the model's defaults (a ViT's AdamW rate), as on the CLI.
        this.applyModelDefaults();
      } else this.setStatus(`${parsed.error} (from the address bar; the default is used).`);
    }
    for (const f of NUMBER_FIELDS) {
      const v = values[f.key];
      if (v !== undefined) this.input(f).value = v;
    }
    // A select cannot show a name it lacks: a bad one keeps the default and is marked beside it.
    for (const f of CHOICE_FIELDS) {
      const v = values[f.key];
      if (v !== undefined && this.checkChoice(f, v).value !== undefined) this.select(f).value = v;
    }
    this.syncPlain();
    for (const f of NUMBER_FIELDS) if (values[f.key] !== undefined) this.checkField(f);
  }

  /** Puts a run's settings back into the form (and the address bar). */
  show(c: RunConfig): void {
    this.modelSelect.value = c.model;
    this.modelShown = c.model;
    for (const f of NUMBER_FIELDS) if (f.runKey !== undefined) this.input(f).value = String(c[f.runKey]);
    for (const f of CHOICE_FIELDS) this.select(f).value = String(c[f.runKey]);
    for (const f of RUN_FORM_FIELDS) {
      if (f.more !== undefined && f.runKey !== undefined && String(c[f.runKey]) !== String(f.defaultValue))
        unfold(byId(f.id));
    }
    this.syncPlain();
    for (const f of NUMBER_FIELDS) this.checkField(f);
    for (const f of CHOICE_FIELDS) this.checkChoice(f);
    this.syncUrl();
  }

  /**
   * Validates every run field, then the run as a whole (checkRun: what a model refuses, e.g. a drop
   * mode on a CNN's spatial dropout); returns the config, or lists every invalid field.
   */
  readRunConfig(): { config?: RunConfig; errors: string[]; firstInvalid?: HTMLElement } {
    const v: Record<string, number | string> = {};
    const errors: string[] = [];
    let firstInvalid: HTMLElement | undefined;
    for (const f of NUMBER_FIELDS.filter((g) => g.group === 'run')) {
      const r = this.checkField(f);
      if (r.error !== undefined) {
        errors.push(r.error);
        firstInvalid ??= this.input(f);
      } else v[f.key] = r.value!;
    }
    for (const f of CHOICE_FIELDS) {
      const r = this.checkChoice(f);
      if (r.error !== undefined) {
        errors.push(r.error);
        firstInvalid ??= this.select(f);
      } else v[f.key] = r.value!;
    }
    const model = parseModel(this.modelSelect.value);
    if (!model.ok) errors.push(model.error);
    if (errors.length > 0 || !model.ok) return { errors, ...(firstInvalid ? { firstInvalid } : {}) };
    // Every field the form lacks takes the model's default, else the option table's, as on the
    // command line (a ViT trains with AdamW and warm-up + cosine unless told otherwise); the run is
    // resolved here, where it enters, and the worker trains it as it is.
    const given: Record<string, unknown> = { model: model.value };
    for (const f of NUMBER_FIELDS) if (f.runKey !== undefined) given[f.runKey] = v[f.key];
    for (const f of CHOICE_FIELDS) given[f.runKey] = v[f.key];
    try {
      // The form sends every field and greys out the rates a model lacks: nothing to refuse as unused;
      // the run is shown back in the form as typed (runOne trains its canonical form all the same).
      const [config] = resolveRuns(given as Partial<RunConfig>, [{}], {
        spelling: 'fields',
        checkUnused: false,
        asGiven: true,
      }).configs;
      return { errors, config: config! };
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
      // The worker would refuse it when the run starts; say so before, in the settings' words.
      return { errors: [e.message.replace(/^run config: /, '')], firstInvalid: this.modelSelect };
    }
  }

  /**
   * After the model menu changed: every field either model sets its own default for
   * (a ViT's lr and weight decay, its dropout rates) takes the new model's value, so a ViT does not
   * start from the MLP's SGD learning rate, and going back restores the book's.
   */
  applyModelDefaults(): void {
    const previous = this.modelShown;
    this.modelShown = this.modelSelect.value;
    const next = parseModel(this.modelSelect.value);
    if (!next.ok) return;
    const own = (name: string): RunConfig =>
      completeConfig({ model: parseModel(name).ok ? (name as RunConfig['model']) : next.value });
    const before = own(previous);
    const after = own(next.value);
    for (const f of NUMBER_FIELDS) {
      if (f.runKey === undefined || before[f.runKey] === after[f.runKey]) continue;
      this.input(f).value = String(after[f.runKey]);
      this.checkField(f);
    }
    for (const f of CHOICE_FIELDS) {
      if (before[f.runKey] === after[f.runKey]) continue;
      this.select(f).value = String(after[f.runKey]);
      this.checkChoice(f);
    }
  }

  /**
   * The rates p₁ and p₂ are labelled with what they are in the chosen model (the registry's words:
   * hidden-layer dropout, spatial dropout, DropBlock, attention dropout, …); a rate the model does
   * not have is greyed out.
   */
  syncPlain(): void {
    const parsed = parseModel(this.modelSelect.value);
    for (const f of NUMBER_FIELDS) {
      if (f.runKey !== 'dropout1' && f.runKey !== 'dropout2') continue;
      const meaning = parsed.ok ? modelEntry(parsed.value)[f.runKey === 'dropout1' ? 'p1' : 'p2'] : undefined;
      this.input(f).disabled = parsed.ok && meaning === undefined;
      const name = f.label.split(' ')[0]!;
      byId(`${f.id}-label`).textContent = !parsed.ok
        ? f.label
        : meaning === undefined
          ? `${name} (not used by ${parsed.value})`
          : `${name}: ${meaning}`;
    }
  }
}
