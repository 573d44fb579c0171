/**
 * Generates docs/configuration.md from the zod schema in src/config/schema.ts (option names,
 * types, defaults and help text), so the reference never drifts from the code. A test fails when
 * the committed file differs from what this prints. Run: `npm run docs:config`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { configSchema, inputSchema, multilineSchema, outputSchema, pipelineSchema, ruleSchema } from '../src/config/schema.js';

type Schema = z.ZodType;
interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  defaultValue?: unknown;
  element?: Schema;
  options?: Schema[];
  entries?: Record<string, string>;
  values?: unknown[];
  shape?: Record<string, Schema>;
  valueType?: Schema;
  format?: string;
}

const def = (s: Schema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const describe = (s: Schema): string | undefined => (s as { description?: string }).description;

interface Field {
  key: string;
  type: string;
  required: boolean;
  defaultText: string;
  help: string;
  /** The object schema under it (its own section), if any. */
  object?: Schema | undefined;
  list?: boolean;
}

/** Peels optional/default/prefault/pipe wrappers, collecting the default and description. */
function unwrap(s: Schema): { core: Schema; required: boolean; defaultValue: unknown; hasDefault: boolean; help: string | undefined; kind: 'duration' | 'size' | undefined } {
  let required = true;
  let defaultValue: unknown;
  let hasDefault = false;
  let help = describe(s);
  let kind: 'duration' | 'size' | undefined;
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const d = def(cur);
    if (d.type === 'optional') {
      required = false;
      cur = d.innerType!;
    } else if (d.type === 'default' || d.type === 'prefault') {
      required = false;
      if (!hasDefault) {
        defaultValue = typeof d.defaultValue === 'function' ? (d.defaultValue as () => unknown)() : d.defaultValue;
        hasDefault = true;
      }
      cur = d.innerType!;
    } else if (d.type === 'pipe' && def(d.in!).type === 'transform') {
      // z.preprocess (integers given as strings): the type is what comes out.
      cur = (d as unknown as { out: Schema }).out;
    } else if (d.type === 'pipe') {
      // duration()/size(): union(number, string) → transform to ms / bytes.
      cur = d.in!;
      kind = 'size';
    } else break;
    help ??= describe(cur);
  }
  if (kind && typeof defaultValue === 'string' && /^\d+(\.\d+)?(ms|s|m|h|d)$/.test(defaultValue)) kind = 'duration';
  return { core: cur, required, defaultValue, hasDefault, help, kind };
}

function typeText(s: Schema): string {
  const d = def(s);
  switch (d.type) {
    case 'string':
      return d.format === 'url' ? 'URL' : 'string';
    case 'number':
      return 'number';
    case 'int':
      return 'integer';
    case 'boolean':
      return 'boolean';
    case 'enum':
      return Object.values(d.entries!).map((v) => `\`${v}\``).join(' | ');
    case 'literal':
      return d.values!.map((v) => `\`${String(v)}\``).join(' | ');
    case 'array':
      return `list of ${typeText(unwrap(d.element!).core)}`;
    case 'record':
      return 'map';
    case 'object':
      return 'object';
    case 'unknown':
      return 'template';
    case 'union': {
      const names = [...new Set(d.options!.map((o) => typeText(unwrap(o).core)))];
      return names.join(' or ');
    }
    default:
      return d.type;
  }
}

function fields(object: Schema): Field[] {
  return Object.entries(def(object).shape!).map(([key, s]) => {
    const u = unwrap(s);
    const cd = def(u.core);
    const element = cd.type === 'array' ? unwrap(cd.element!).core : undefined;
    const objectUnder = cd.type === 'object' ? u.core : element && def(element).type === 'object' ? element : undefined;
    let type = u.kind ?? typeText(u.core);
    if (cd.type === 'number' && (u.core as unknown as { isInt?: boolean }).isInt) type = 'integer';
    return {
      key,
      type,
      required: u.required,
      defaultText: u.hasDefault ? defaultText(u.defaultValue) : '',
      help: u.help ?? '',
      object: objectUnder,
      list: element !== undefined,
    };
  });
}

function defaultText(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return `\`${v === '' ? '""' : v}\``;
  if (typeof v === 'object' && v !== null && Object.keys(v).length === 0) return Array.isArray(v) ? '`[]`' : '`{}`';
  return `\`${JSON.stringify(v)}\``;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(list: Field[], linkFor: (f: Field) => string | undefined): string {
  const rows = list.map((f) => {
    const link = linkFor(f);
    const key = link ? `[\`${f.key}\`](#${link})` : `\`${f.key}\``;
    return `| ${key} | ${cell(f.type)} | ${f.required ? 'yes' : ''} | ${f.defaultText} | ${cell(f.help)} |`;
  });
  return ['| key | type | required | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

const anchorOf = (s: string): string => s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();

/**
 * One table; `links` sends keys to sections of their own (key → anchor). Other object-valued
 * keys get a sub-table right after, at `level` + 1.
 */
function section(level: number, title: string, prefix: string, schema: Schema, intro: string, links: Record<string, string> = {}, display = prefix): string {
  const list = fields(schema);
  const h = '#'.repeat(level);
  const out = [`${h} ${title}`, ''];
  if (intro) out.push(intro, '');
  out.push(table(list, (f) => links[f.key] ?? (f.object ? anchorOf(prefix + f.key) : undefined)));
  for (const f of list) {
    if (!f.object || links[f.key] !== undefined) continue;
    const name = `${display}${f.key}${f.list ? '[]' : ''}`;
    out.push('', `${h}# <a id="${anchorOf(prefix + f.key)}"></a>\`${name}\``, '');
    const help = describe(f.object) ?? f.help;
    if (help) out.push(help, '');
    out.push(table(fields(f.object), () => undefined));
  }
  return out.join('\n');
}

export function renderConfigDocs(): string {
  const outputs = def(outputSchema as unknown as Schema).options!;
  const parts: string[] = [
    '# Configuration reference',
    '',
    '<!-- GENERATED by scripts/gen-config-docs.ts from src/config/schema.ts: do not edit; run `npm run docs:config`. -->',
    '',
    'A config is one YAML file: the `--config` file, else the `TAILSHIP_CONFIG` variable (a file',
    'path, or the YAML text itself), else `/etc/tailship/tailship.yaml`. Environment variables are',
    'replaced in values before validation, in the forms shells and Docker Compose use: `$VAR`,',
    '`${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset), `${VAR:?message}`',
    '(an error with the message when unset or empty), `${VAR?message}` (when unset); `$$` is a',
    'literal `$`. A variable without a default that is not set is an error (except for `status`,',
    '`dead-letter` and `parse`, which send nothing and so need no secrets).',
    '',
    'Durations need a unit: `500ms`, `5s`, `1m`, `24h`, `7d` (a bare number other than `0` is an',
    'error saying to write `5s` or `5ms`). Sizes are bytes or `64KiB`, `10MB`. Relative paths',
    "resolve against the config file's directory.",
    '',
    '`tailship validate --config FILE` checks a config and reports every problem at once, each',
    'with its file, line, column and key, and "did you mean" for a mistyped key, value or field:',
    'where the parser knows all the fields its records have (`nginx`, `apache`), a template or',
    '`when` naming any other field is an error. It warns about input paths matching no file.',
    '',
    section(2, 'Top level', '', configSchema, 'The whole file.', { pipelines: 'pipelines' }),
    '',
    section(2, '<a id="pipelines"></a>Pipelines: `pipelines[]`', '', pipelineSchema, 'Each pipeline has its own files, parser, mapping rules and outputs.', {
      inputs: 'inputs',
      multiline: 'multiline',
      parser: 'parser',
      events: 'rules',
      output: 'outputs',
      outputs: 'outputs',
    }),
    '',
    section(2, '<a id="inputs"></a>Inputs: `pipelines[].inputs[]`', 'inputs.', inputSchema, describe(inputSchema) ?? ''),
    '',
    section(2, '<a id="multiline"></a>Multiline: `pipelines[].multiline`', 'multiline.', multilineSchema, describe(multilineSchema) ?? ''),
    '',
    '## <a id="parser"></a>Parser: `pipelines[].parser`',
    '',
    `${describe(pipelineSchema.shape.parser as unknown as Schema) ?? ''} Either \`type\` (a built-in parser, with its options beside it) or \`module\` (a user module, with \`options\`). The parsers and their options are in [parsers.md](parsers.md).`,
    '',
    section(2, '<a id="rules"></a>Mapping rules: `pipelines[].events[]`', 'events.', ruleSchema, `${describe(ruleSchema) ?? ''} Templates and \`when\` are described in [mapping.md](mapping.md).`),
    '',
    '## <a id="outputs"></a>Outputs: `pipelines[].output` or `pipelines[].outputs[]`',
    '',
    `One output, or a list of them; each event goes to every output of its pipeline. \`type\` is one of ${outputs.map((o) => `\`${String(def(def(o).shape!.type!).values![0])}\``).join(', ')}.`,
    '',
  ];
  for (const option of outputs) {
    const type = String(def(def(option).shape!.type!).values![0]);
    parts.push(section(3, `Output \`type: ${type}\``, `output-${type}.`, option, '', {}, 'output.'), '');
  }
  return parts.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

export const CONFIG_DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []), 'docs', 'configuration.md');

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(CONFIG_DOCS, renderConfigDocs());
  console.log(`wrote ${CONFIG_DOCS}`);
}
