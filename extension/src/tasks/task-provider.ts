/**
 * The `berth` task type: tasks that run in the container of this window
 * through the agent (CustomExecution + a Pseudoterminal over an exec with a
 * PTY). In a berth-container:// window (a virtual workspace) VS Code runs
 * neither `shell` nor `process` tasks and drops them from tasks.json; the
 * provider reads the workspace's .vscode/tasks.json itself and offers those
 * as `berth` tasks with the same label. tasks.json entries of type `berth`
 * are resolved here too.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';
import { containerFolder } from '../workspace-state';
import { parseContainerUri } from '../container-uri';
import { asBerthDefinition, BERTH_TASK_TYPE, commandLine, taskCwd, taskEnv, tasksFromJson, type BerthTaskDefinition, type JsonTask } from './task-definitions';
import { TaskPty } from './task-pty';

export class BerthTaskProvider implements vscode.TaskProvider {
  constructor(private readonly services: Services) {}

  async provideTasks(): Promise<vscode.Task[]> {
    const folder = containerFolder();
    if (!folder) return [];
    const file = vscode.Uri.joinPath(folder.uri, '.vscode', 'tasks.json');
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
    } catch {
      return [];
    }
    let tasks: JsonTask[];
    try {
      tasks = tasksFromJson(text);
    } catch (err) {
      this.services.log.warn(`${file.path}: ${(err as Error).message}`);
      return [];
    }
    return tasks.map((t) => {
      const task = this.task(folder, t.definition, t.label, t.problemMatchers);
      if (t.group) task.group = t.group === 'build' ? vscode.TaskGroup.Build : vscode.TaskGroup.Test;
      if (t.isBackground) task.isBackground = true;
      task.detail = t.detail ?? `in the container: ${commandLine(t.definition, { workspaceFolder: folder.uri.path })}`;
      return task;
    });
  }

  /** A `berth` task of tasks.json: keeps its definition object, as VS Code requires. */
  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const folder = containerFolder();
    const definition = asBerthDefinition(task.definition);
    if (!folder || !definition) return undefined;
    return this.task(folder, definition, task.name, [], task.definition);
  }

  private task(folder: vscode.WorkspaceFolder, definition: BerthTaskDefinition, label: string, problemMatchers: readonly string[], original?: vscode.TaskDefinition): vscode.Task {
    const { containerId, path } = parseContainerUri(folder.uri);
    const vars = { workspaceFolder: path };
    const execution = new vscode.CustomExecution(() =>
      Promise.resolve(new TaskPty(this.services.pool.get(containerId), { commandLine: commandLine(definition, vars), cwd: taskCwd(definition, vars), env: taskEnv(definition, vars) })),
    );
    // Matchers given (even none): VS Code does not ask which to scan the output with.
    return new vscode.Task(original ?? definition, folder, label, 'Berth', execution, [...problemMatchers]);
  }
}

export function registerTasks(services: Services): vscode.Disposable {
  return vscode.tasks.registerTaskProvider(BERTH_TASK_TYPE, new BerthTaskProvider(services));
}
