/**
 * Diagnostics for devcontainer.json files from Berth's own validator.
 */
import * as vscode from 'vscode';
import { diagnoseConfigText } from '../../src/config/parse';

const CONFIG_FILE = /(^|[\\/])\.?devcontainer\.json$/;

export function isDevcontainerConfig(doc: vscode.TextDocument): boolean {
  return CONFIG_FILE.test(doc.uri.path);
}

export function registerConfigDiagnostics(context: vscode.ExtensionContext): void {
  const collection = vscode.languages.createDiagnosticCollection('berth');
  context.subscriptions.push(collection);
  const update = (doc: vscode.TextDocument): void => {
    if (!isDevcontainerConfig(doc)) return;
    const { diagnostics } = diagnoseConfigText(doc.getText(), doc.uri.fsPath);
    collection.set(
      doc.uri,
      diagnostics.map((d) => {
        const pos = new vscode.Position(d.line - 1, d.column - 1);
        const range = doc.getWordRangeAtPosition(pos, /"[^"]*"|[^\s,:{}[\]]+/) ?? new vscode.Range(pos, pos.translate(0, 1));
        const severity = d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
        const diagnostic = new vscode.Diagnostic(range, d.path ? `${d.path}: ${d.message}` : d.message, severity);
        diagnostic.source = 'berth';
        return diagnostic;
      }),
    );
  };
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument(update),
    vscode.workspace.onDidChangeTextDocument((e) => update(e.document)),
    vscode.workspace.onDidCloseTextDocument((doc) => collection.delete(doc.uri)),
  );
  vscode.workspace.textDocuments.forEach(update);
}
