/**
 * The report's page: one self-contained HTML file (styles and SVG plots inline, no script, no
 * external reference) and the same content as Markdown, from the experiments' outcomes. Pure: the
 * caller reads the plots and writes the files.
 */

/** One section of the report: an experiment's question, command, plots, tables and verdict. */
export interface ReportSection {
  /** The part it belongs to (a heading opens each part). */
  readonly part: 'deck' | 'exercise' | 'beyond';
  readonly title: string;
  readonly question: string;
  readonly command: string;
  /** Markdown of the tables (### headings and pipe tables, as the experiment command writes them). */
  readonly tables: string;
  readonly verdict: string;
  readonly notes: string;
  /** The plots: caption, inline SVG text, and the PNG's path relative to the report. */
  readonly plots: readonly { readonly caption: string; readonly svg: string; readonly png: string }[];
}

/** The page's header facts. */
export interface ReportHeader {
  readonly title: string;
  readonly mode: 'quick' | 'full';
  readonly command: string;
  readonly wallSeconds: number;
  readonly date: string;
  readonly settings: string;
}

/** The parts' headings, in report order. */
const PARTS: Readonly<Record<ReportSection['part'], string>> = {
  deck: "The deck's claims",
  exercise: "The book's exercises (d2l, Dropout)",
  beyond: 'Beyond the deck: normalisation, schedules, R-Drop',
};

/** Whether section i opens a part (the first of its part). */
function opensPart(sections: readonly ReportSection[], i: number): boolean {
  return i === 0 || sections[i - 1]!.part !== sections[i]!.part;
}

function escapeHtml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** Inline Markdown of our own text: `code` and **bold** only. */
function inline(s: string): string {
  return escapeHtml(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

/** The tables' Markdown (### headings, pipe tables, paragraphs) as HTML. */
export function markdownToHtml(md: string): string {
  const out: string[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('### ')) out.push(`<h4>${inline(line.slice(4))}</h4>`);
    else if (line.startsWith('|')) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i]!.startsWith('|')) {
        const cells = lines[i]!.slice(1, -1)
          .split('|')
          .map((c) => c.trim());
        if (!cells.every((c) => /^-+$/.test(c))) rows.push(cells);
        i++;
      }
      i--;
      const [head, ...body] = rows;
      out.push(
        '<table>',
        `<tr>${(head ?? []).map((c) => `<th>${inline(c)}</th>`).join('')}</tr>`,
        ...body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`),
        '</table>',
      );
    } else if (line.trim() !== '') out.push(`<p>${inline(line)}</p>`);
  }
  return out.join('\n');
}

/** An SVG file's text made safe to inline: no XML prolog or doctype. */
function inlineSvg(svg: string): string {
  return svg.replace(/<\?xml[^>]*\?>/g, '').replace(/<!DOCTYPE[^>]*>/gi, '');
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{margin-top:3rem;font-size:1.4rem}h3{margin-top:2.5rem;border-bottom:1px solid #ccc}h4{margin-bottom:.3rem}
table{border-collapse:collapse;font-size:12px;margin:.5rem 0;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:right;white-space:nowrap}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}code{background:#f4f4f4;padding:0 3px}
figure{display:inline-block;margin:.5rem 1rem .5rem 0}figure svg{max-width:34rem;height:auto}
.verdict{background:#f3f8ff;border-left:4px solid #48f;padding:.5rem 1rem}.muted{color:#666}`;

/** The self-contained HTML page. */
export function reportHtml(h: ReportHeader, sections: readonly ReportSection[]): string {
  const body = sections.map((s, i) =>
    [
      ...(opensPart(sections, i) ? [`<h2 class="part">${escapeHtml(PARTS[s.part])}</h2>`] : []),
      `<section>`,
      `<h3>${inline(s.title)}</h3>`,
      `<p><strong>Question.</strong> ${inline(s.question)}</p>`,
      `<p><strong>Command.</strong> <code>${escapeHtml(s.command)}</code></p>`,
      `<p class="muted">${inline(s.notes)}</p>`,
      ...s.plots.map(
        (p) => `<figure>${inlineSvg(p.svg)}<figcaption>${inline(p.caption)}</figcaption></figure>`,
      ),
      markdownToHtml(s.tables),
      `<p class="verdict"><strong>Verdict.</strong> ${inline(s.verdict)}</p>`,
      `</section>`,
    ].join('\n'),
  );
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(h.title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(h.title)}</h1>`,
    `<p>${h.mode === 'quick' ? '<strong>Quick report</strong> (tiny subsets: the numbers show the pipeline, not the science). ' : ''}Made by <code>${escapeHtml(h.command)}</code> on ${escapeHtml(h.date)} in ${h.wallSeconds.toFixed(0)} s. ${inline(h.settings)}</p>`,
    '<p class="muted">Every number is mean ± sample standard deviation over seeds; every verdict is written from those numbers by a template: "clearly" means the difference of means exceeds twice the combined standard deviation, "slightly" more than once, otherwise "within the seed spread"; with one seed there is no spread, so no such word: "one seed: no spread to judge by".</p>',
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}

/** The same report as Markdown (plots as PNG links next to it). */
export function reportMarkdown(h: ReportHeader, sections: readonly ReportSection[]): string {
  return [
    `# ${h.title}`,
    '',
    `${h.mode === 'quick' ? '**Quick report** (tiny subsets: the numbers show the pipeline, not the science). ' : ''}Made by \`${h.command}\` on ${h.date} in ${h.wallSeconds.toFixed(0)} s. ${h.settings}`,
    '',
    ...sections.flatMap((s, i) => [
      ...(opensPart(sections, i) ? [`## ${PARTS[s.part]}`, ''] : []),
      `### ${s.title}`,
      '',
      `**Question.** ${s.question}`,
      '',
      `**Command.** \`${s.command}\``,
      '',
      s.notes,
      '',
      ...s.plots.map((p) => `![${p.caption}](${p.png})`),
      '',
      s.tables.replace(/^### /gm, '#### '),
      '',
      `**Verdict.** ${s.verdict}`,
      '',
    ]),
  ].join('\n');
}
