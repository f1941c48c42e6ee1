/** `berth templates list|apply`: the starter configurations in templates/. */
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { applyTemplate, listTemplates } from '../../config/templates';
import { stringList, stringOption, type Command } from '../command';

function parseOptionFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new BerthError('invalid_argument', `--option must look like name=value (got "${flag}")`);
    out[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return out;
}

export const templatesCommand: Command = {
  name: 'templates',
  summary: 'List the dev container templates, or apply one to a workspace.',
  usage: 'templates list | templates apply --template ID [--option NAME=VALUE]... [--workspace-folder DIR] [--overwrite]',
  allowPositionals: true,
  options: {
    template: { type: 'string', valueName: 'ID', description: 'Template to apply.' },
    option: { type: 'string', multiple: true, valueName: 'NAME=VALUE', description: 'A template option.' },
    'workspace-folder': { type: 'string', valueName: 'DIR', description: 'Where to apply (default: the current directory).' },
    overwrite: { type: 'boolean', description: 'Replace existing files (default: refuse and write nothing).' },
    'templates-dir': { type: 'string', valueName: 'DIR', description: "Templates folder (default: Berth's own)." },
  },
  async run(values, positionals, ctx) {
    const dir = path.resolve(ctx.cwd, stringOption(values, 'templates-dir') ?? path.join(__dirname, '..', 'templates'));
    const [verb, ...extra] = positionals;
    if (extra.length > 0) throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
    const templates = await listTemplates(dir, { signal: ctx.signal });
    if (verb === 'list') {
      ctx.result({
        outcome: 'success',
        templates: templates.map(({ dir: _dir, ...meta }) => meta),
      });
      return 0;
    }
    if (verb !== 'apply') throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
    const id = stringOption(values, 'template');
    const meta = templates.find((t) => t.id === id);
    if (!meta) throw new BerthError('not_found', `no template "${id ?? ''}"; available: ${templates.map((t) => t.id).join(', ')}`);
    const workspace = path.resolve(ctx.cwd, stringOption(values, 'workspace-folder') ?? '.');
    const files = await applyTemplate(meta, workspace, parseOptionFlags(stringList(values, 'option')), {
      overwrite: values['overwrite'] === true,
      signal: ctx.signal,
    });
    ctx.logger.info(`applied template ${meta.id} to ${workspace}`);
    ctx.result({ outcome: 'success', template: meta.id, workspaceFolder: workspace, files });
    return 0;
  },
};
