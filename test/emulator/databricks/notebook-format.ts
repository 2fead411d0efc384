/**
 * Notebook formats as the workspace stores and converts them: SOURCE text with
 * its header line and cell separators, Jupyter (.ipynb) JSON, and DBC entries.
 * A notebook is kept as its language plus the SOURCE body without the header.
 */
export type Language = 'PYTHON' | 'SCALA' | 'SQL' | 'R';
export const LANGUAGES: Language[] = ['PYTHON', 'SCALA', 'SQL', 'R'];

const COMMENT: Record<Language, string> = { PYTHON: '#', R: '#', SCALA: '//', SQL: '--' };

export function headerFor(lang: Language): string {
  return `${COMMENT[lang]} Databricks notebook source`;
}

export function cellSeparator(lang: Language): string {
  return `${COMMENT[lang]} COMMAND ----------`;
}

/** Language of a SOURCE extension (case-insensitive, as the CLI does). */
export function languageForExtension(ext: string): Language | undefined {
  switch (ext.toLowerCase()) {
    case '.py':
      return 'PYTHON';
    case '.scala':
      return 'SCALA';
    case '.sql':
      return 'SQL';
    case '.r':
      return 'R';
    default:
      return undefined;
  }
}

export function extensionFor(lang: Language): string {
  return { PYTHON: '.py', SCALA: '.scala', SQL: '.sql', R: '.r' }[lang];
}

/** First line of the content, read from at most the first 32 bytes like databricks/cli. */
export function firstLine(content: Buffer): string {
  const head = content.subarray(0, 32).toString('utf8');
  return head.split('\n')[0].replace(/\r$/, '');
}

/** True if the content starts with the notebook header of the language. */
export function hasHeader(content: Buffer, lang: Language): boolean {
  return firstLine(content) === headerFor(lang);
}

/** SOURCE body without the header line (if present). */
export function stripHeader(text: string, lang: Language): string {
  const nl = text.indexOf('\n');
  const first = (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, '');
  if (first !== headerFor(lang)) return text;
  return nl < 0 ? '' : text.slice(nl + 1);
}

export function sourceText(body: string, lang: Language): string {
  return `${headerFor(lang)}\n${body}`;
}

interface Cell {
  kind: 'code' | 'markdown';
  lines: string[];
}

/** Splits a SOURCE body into cells; MAGIC %md cells become markdown. */
export function splitCells(body: string, lang: Language): Cell[] {
  const sep = cellSeparator(lang);
  const magic = `${COMMENT[lang]} MAGIC`;
  const cells: Cell[] = [];
  for (const chunk of body.split(new RegExp(`\\r?\\n?${escapeRe(sep)}\\r?\\n?`))) {
    const lines = chunk.replace(/^\n+|\n+$/g, '').split('\n');
    if (lines.length > 0 && lines[0].startsWith(`${magic} %md`)) {
      const md = lines.map((l) => (l.startsWith(magic) ? l.slice(magic.length).replace(/^ /, '') : l));
      md[0] = md[0].replace(/^%md ?/, '');
      cells.push({ kind: 'markdown', lines: md[0] === '' ? md.slice(1) : md });
    } else {
      cells.push({ kind: 'code', lines });
    }
  }
  return cells;
}

function joinCells(cells: Cell[], lang: Language): string {
  const magic = `${COMMENT[lang]} MAGIC`;
  const parts = cells.map((c) =>
    c.kind === 'markdown'
      ? [`${magic} %md`, ...c.lines.map((l) => `${magic} ${l}`)].join('\n')
      : c.lines.join('\n'),
  );
  return parts.join(`\n\n${cellSeparator(lang)}\n\n`);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

// ---- Jupyter ---------------------------------------------------------------------------

interface IpynbCell {
  cell_type?: string;
  source?: string | string[];
}

interface Ipynb {
  cells?: IpynbCell[];
  metadata?: Record<string, unknown>;
  nbformat?: number;
}

/** Parses .ipynb content the way databricks/cli detects notebooks; undefined if it is not one. */
export function parseIpynb(content: Buffer): Ipynb | undefined {
  let nb: unknown;
  try {
    nb = JSON.parse(content.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!nb || typeof nb !== 'object') return undefined;
  const o = nb as Ipynb;
  if (!Array.isArray(o.cells) || !o.metadata || typeof o.nbformat !== 'number' || o.nbformat < 4)
    return undefined;
  return o;
}

export function ipynbLanguage(nb: Ipynb): Language {
  const md = nb.metadata ?? {};
  const dbx = md['application/vnd.databricks.v1+notebook'] as { language?: unknown } | undefined;
  const info = md['language_info'] as { name?: unknown } | undefined;
  const kernel = md['kernelspec'] as { language?: unknown } | undefined;
  for (const v of [dbx?.language, info?.name, kernel?.language]) {
    if (typeof v === 'string') {
      const up = v.toUpperCase();
      if ((LANGUAGES as string[]).includes(up)) return up as Language;
    }
  }
  return 'PYTHON';
}

export function ipynbToBody(nb: Ipynb, lang: Language): string {
  const cells: Cell[] = (nb.cells ?? []).map((c) => {
    const src = Array.isArray(c.source) ? c.source.join('') : (c.source ?? '');
    return {
      kind: c.cell_type === 'markdown' ? 'markdown' : 'code',
      lines: src.replace(/\n$/, '').split('\n'),
    };
  });
  return joinCells(cells, lang);
}

export function bodyToIpynb(body: string, lang: Language, name: string): Buffer {
  const cells = splitCells(body, lang).map((c, i) => {
    const lines = c.lines.map((l, j) => (j < c.lines.length - 1 ? `${l}\n` : l));
    const meta = { 'application/vnd.databricks.v1+cell': { title: '', nuid: `cell-${i}`, showTitle: false } };
    return c.kind === 'markdown'
      ? { cell_type: 'markdown', metadata: meta, source: lines }
      : { cell_type: 'code', execution_count: 0, metadata: meta, outputs: [], source: lines };
  });
  const nb = {
    cells,
    metadata: {
      'application/vnd.databricks.v1+notebook': {
        language: lang.toLowerCase(),
        notebookName: name,
        dashboards: [],
        notebookMetadata: {},
        widgets: {},
      },
      language_info: { name: lang.toLowerCase() },
    },
    nbformat: 4,
    nbformat_minor: 0,
  };
  return Buffer.from(JSON.stringify(nb, null, 1), 'utf8');
}

// ---- DBC ---------------------------------------------------------------------------------

const DBC_EXT: Record<string, Language> = {
  '.python': 'PYTHON',
  '.scala': 'SCALA',
  '.sql': 'SQL',
  '.r': 'R',
};

export function dbcEntryLanguage(name: string): { base: string; lang: Language } | undefined {
  const m = /^(.*?)(\.python|\.scala|\.sql|\.r)$/i.exec(name);
  if (!m) return undefined;
  return { base: m[1], lang: DBC_EXT[m[2].toLowerCase()] };
}

/** Body of a DBC notebook entry (JSON with commands); throws if it is not one. */
export function dbcEntryToBody(content: Buffer, lang: Language): string {
  const j = JSON.parse(content.toString('utf8')) as {
    commands?: { command?: unknown; position?: unknown }[];
  };
  if (!j || !Array.isArray(j.commands)) throw new Error('DBC entry has no commands');
  const cmds = [...j.commands].sort((a, b) => Number(a.position ?? 0) - Number(b.position ?? 0));
  return cmds.map((c) => String(c.command ?? '')).join(`\n\n${cellSeparator(lang)}\n\n`);
}

export function bodyToDbcEntry(body: string, lang: Language, name: string, id: number): Buffer {
  const commands = splitCells(body, lang).map((c, i) => ({
    version: 'CommandV1',
    origId: id + i + 1,
    guid: `00000000-0000-4000-8000-${String(id + i + 1)
      .padStart(12, '0')
      .slice(-12)}`,
    subtype: 'command',
    commandType: 'auto',
    position: i + 1,
    command: c.kind === 'markdown' ? ['%md', ...c.lines].join('\n') : c.lines.join('\n'),
  }));
  const nb = { version: 'NotebookV1', origId: id, name, language: lang.toLowerCase(), commands };
  return Buffer.from(JSON.stringify(nb), 'utf8');
}

export function dbcExtension(lang: Language): string {
  return { PYTHON: '.python', SCALA: '.scala', SQL: '.sql', R: '.r' }[lang];
}

/** A small HTML page standing in for Databricks' HTML export. */
export function bodyToHtml(body: string, lang: Language, name: string): Buffer {
  const encoded = Buffer.from(sourceText(body, lang), 'utf8').toString('base64');
  const html =
    `<!DOCTYPE html>\n<html>\n<head>\n<meta name="databricks-html-version" content="1">\n` +
    `<title>${escapeHtml(name)} - Databricks</title>\n</head>\n<body>\n` +
    `<script>var __DATABRICKS_NOTEBOOK_MODEL = '${encoded}';</script>\n</body>\n</html>\n`;
  return Buffer.from(html, 'utf8');
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string,
  );
}
