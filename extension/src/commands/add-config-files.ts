/**
 * Add Dev Container Configuration Files...: pick one of Berth's templates
 * (`berth templates list`), answer its options (a closed list, proposals
 * with free text, or yes/no), then `berth templates apply` into the folder.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { TemplateMetadata, TemplateOption } from '../../../src/config/templates';
import type { Services } from '../services';
import { localFolder } from '../workspace-state';

async function askOption(name: string, option: TemplateOption): Promise<string | undefined> {
  const title = `${name}${option.description ? `: ${option.description}` : ''}`;
  if (option.type === 'boolean') {
    const pick = await vscode.window.showQuickPick(['true', 'false'], { title, placeHolder: `default ${String(option.default)}` });
    return pick;
  }
  const values = option.enum ?? option.proposals;
  if (values && values.length) {
    const items = values.map((v) => ({ label: v, description: v === option.default ? 'default' : '' }));
    if (option.enum) return (await vscode.window.showQuickPick(items, { title }))?.label;
    const other = { label: 'Other...', description: 'type a value' };
    const pick = await vscode.window.showQuickPick([...items, other], { title });
    if (pick !== other) return pick?.label;
  }
  return vscode.window.showInputBox({ title, value: String(option.default), ignoreFocusOut: true });
}

export async function addConfigFiles(services: Services): Promise<void> {
  const folder = localFolder();
  if (!folder) {
    void vscode.window.showErrorMessage('Berth: open a local folder to add dev container files to.');
    return;
  }
  const list = await services.cli(['templates', 'list']);
  const templates = (list['templates'] ?? []) as Omit<TemplateMetadata, 'dir'>[];
  const pick = await vscode.window.showQuickPick(
    templates.map((t) => ({ label: t.name, description: t.id, detail: t.description, template: t })),
    { title: 'Add Dev Container Configuration Files', matchOnDetail: true },
  );
  if (!pick) return;
  const args = ['templates', 'apply', '--template', pick.template.id, '--workspace-folder', folder.uri.fsPath];
  for (const [name, option] of Object.entries(pick.template.options ?? {})) {
    const value = await askOption(name, option);
    if (value === undefined) return;
    args.push('--option', `${name}=${value}`);
  }
  let result: Record<string, unknown>;
  try {
    result = await services.cli(args);
  } catch (err) {
    if ((err as { code?: string }).code !== 'already_exists' && !/exist/i.test((err as Error).message)) throw err;
    const again = await vscode.window.showWarningMessage(`Berth: ${(err as Error).message}`, { modal: true }, 'Overwrite');
    if (again !== 'Overwrite') return;
    result = await services.cli([...args, '--overwrite']);
  }
  const files = (result['files'] ?? []) as string[];
  const config = files.find((f) => f.endsWith('devcontainer.json'));
  if (config) await vscode.window.showTextDocument(vscode.Uri.file(path.resolve(folder.uri.fsPath, config)));
  const choice = await vscode.window.showInformationMessage(`Berth: added ${pick.template.name} (${files.length} files).`, 'Reopen in Container');
  if (choice) await vscode.commands.executeCommand('berth.reopenInContainer');
}
