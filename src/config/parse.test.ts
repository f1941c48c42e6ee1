import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../common/errors';
import { diagnoseConfigText, parseConfigText, type ConfigDiagnostic } from './parse';
import { LIFECYCLE_COMMANDS } from './types';

const FILE = '/w/.devcontainer/devcontainer.json';

function errorsOf(text: string): ConfigDiagnostic[] {
  return diagnoseConfigText(text, FILE).diagnostics.filter((d) => d.severity === 'error');
}
function warningsOf(text: string): ConfigDiagnostic[] {
  return diagnoseConfigText(text, FILE).diagnostics.filter((d) => d.severity === 'warning');
}

/** A configuration that uses every property of the spec (image flavour). */
const EVERYTHING = `// comments are fine
{
  "$schema": "https://raw.githubusercontent.com/devcontainers/spec/main/schemas/devContainer.schema.json",
  "name": "everything",
  "image": "debian:12",
  /* block comment */
  "forwardPorts": [3000, "db:5432", 0, 65535],
  "portsAttributes": {
    "3000": { "label": "app", "onAutoForward": "openBrowser", "elevateIfNeeded": false, "requireLocalPort": true, "protocol": "https" },
    "8000-8010": { "onAutoForward": "silent" },
    ".+\\\\.local": { "onAutoForward": "ignore" }
  },
  "otherPortsAttributes": { "onAutoForward": "notify" },
  "appPort": [8080, "9090:90"],
  "runArgs": ["--cap-add=SYS_PTRACE", "--network=host"],
  "shutdownAction": "stopContainer",
  "overrideCommand": true,
  "initializeCommand": "echo init",
  "onCreateCommand": ["echo", "create"],
  "updateContentCommand": { "a": "echo a", "b": ["echo", "b"] },
  "postCreateCommand": "echo post",
  "postStartCommand": ["echo"],
  "postAttachCommand": { "one": "echo 1" },
  "waitFor": "postCreateCommand",
  "workspaceFolder": "/src",
  "workspaceMount": "source=\${localWorkspaceFolder},target=/src,type=bind",
  "mounts": ["source=vol,target=/data,type=volume", { "type": "bind", "source": "/tmp", "target": "/host-tmp" }, { "type": "volume", "target": "/anon" }],
  "containerEnv": { "A": "1" },
  "remoteEnv": { "PATH": "\${containerEnv:PATH}:/x", "UNSET": null },
  "containerUser": "root",
  "remoteUser": "vscode",
  "updateRemoteUserUID": true,
  "userEnvProbe": "loginInteractiveShell",
  "init": true,
  "privileged": false,
  "capAdd": ["SYS_PTRACE"],
  "securityOpt": ["seccomp=unconfined"],
  "features": { "ghcr.io/devcontainers/features/node:1": { "version": "20", "nvm": true }, "./local-feature": {}, "a:1": "latest", "b:1": true },
  "overrideFeatureInstallOrder": ["a:1"],
  "hostRequirements": { "cpus": 2, "memory": "4gb", "storage": "32gb", "gpu": "optional" },
  "customizations": { "vscode": { "extensions": ["ms-python.python"], "settings": { "editor.tabSize": 2 } }, "jetbrains": { "backend": "IntelliJ" } },
  "secrets": { "TOKEN": { "description": "a token", "documentationUrl": "https://example.com" } },
}`;

test('a configuration with every property parses without diagnostics', () => {
  const { config, diagnostics } = parseConfigText(EVERYTHING, FILE);
  assert.deepEqual(diagnostics, []);
  assert.equal(config.name, 'everything');
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.forwardPorts));
});

test('Dockerfile and compose flavours parse', () => {
  const dockerfile = `{ "build": { "dockerfile": "Dockerfile", "context": "..", "target": "dev", "args": { "V": "1" }, "cacheFrom": ["a", "b"], "options": ["--network=host"] } }`;
  assert.deepEqual(parseConfigText(dockerfile, FILE).diagnostics, []);
  assert.deepEqual(parseConfigText(`{ "build": { "dockerfile": "D", "cacheFrom": "a" } }`, FILE).diagnostics, []);
  const compose = `{ "dockerComposeFile": ["a.yml", "b.yml"], "service": "app", "runServices": ["app", "db"], "workspaceFolder": "/w", "shutdownAction": "stopCompose" }`;
  assert.deepEqual(parseConfigText(compose, FILE).diagnostics, []);
  const deprecated = warningsOf(`{ "dockerFile": "Dockerfile", "context": ".." }`);
  assert.deepEqual(deprecated.map((d) => d.path), ['dockerFile', 'context']);
  assert.match(deprecated[0]?.message ?? '', /deprecated: use "build.dockerfile"/);
});

test('every lifecycle command accepts string, array and object forms', () => {
  for (const name of LIFECYCLE_COMMANDS) {
    for (const form of ['"echo hi"', '["echo", "hi"]', '{ "x": "echo x", "y": ["echo", "y"] }']) {
      assert.deepEqual(errorsOf(`{ "image": "i", "${name}": ${form} }`), [], `${name} ${form}`);
    }
    const [bad] = errorsOf(`{ "image": "i", "${name}": 42 }`);
    assert.equal(bad?.path, name);
    assert.match(bad?.message ?? '', /expected a string or an array of strings or an object.*got number 42/);
    const [badItem] = errorsOf(`{ "image": "i", "${name}": ["echo", 1] }`);
    assert.equal(badItem?.path, `${name}[1]`);
    const [badObj] = errorsOf(`{ "image": "i", "${name}": { "a": true } }`);
    assert.equal(badObj?.path, `${name}.a`);
  }
});

test('malformed JSONC is reported with line:column', () => {
  const text = '{\n  "image": "debian"\n  "name": "x"\n}';
  assert.throws(
    () => parseConfigText(text, FILE),
    (e: unknown) => {
      assert.ok(BerthError.is(e, 'invalid_argument'));
      assert.equal(e.details.line, 3);
      assert.equal(e.details.column, 3);
      assert.match(e.message, /^\/w\/\.devcontainer\/devcontainer\.json:3:3: error: malformed JSON: expected a comma/);
      return true;
    },
  );
  const [unterminated] = errorsOf('{\n  "image": "debian\n}');
  assert.match(unterminated?.message ?? '', /unterminated string/);
  assert.equal(unterminated?.line, 2);
  assert.match(errorsOf('')[0]?.message ?? '', /empty/);
  assert.match(errorsOf('{ "image": "a" } }')[0]?.message ?? '', /after the end/);
  assert.match(errorsOf('{ "image": "a", /* open comment }')[0]?.message ?? '', /unterminated comment/);
});

test('a UTF-8 byte order mark is accepted and does not shift positions', () => {
  assert.deepEqual(errorsOf('\ufeff{ "image": "a" }'), []);
  assert.equal(errorsOf('\ufeff{\n  "init": 1\n}')[0]?.column, 11);
});

test('comments and trailing commas are accepted', () => {
  assert.deepEqual(errorsOf('// c\n{ "image": "a", /* c */ "forwardPorts": [1, 2,], }'), []);
});

test('the document must be an object', () => {
  assert.match(errorsOf('[1]')[0]?.message ?? '', /expected a JSON object, got an array/);
  assert.match(errorsOf('"x"')[0]?.message ?? '', /expected a JSON object/);
});

const WRONG: ReadonlyArray<readonly [string, string, string, RegExp]> = [
  ['name', '1', 'name', /expected a string, got number 1/],
  ['image', '""', 'image', /non-empty string/],
  ['image', '["debian"]', 'image', /expected a non-empty string, got an array/],
  ['build', '"Dockerfile"', 'build', /expected an object/],
  ['build', '{ "dockerfile": "D", "args": { "A": 1 } }', 'build.args.A', /expected a string/],
  ['build', '{ "dockerfile": "D", "cacheFrom": 1 }', 'build.cacheFrom', /a string or an array of strings/],
  ['build', '{ "dockerfile": "D", "options": "--x" }', 'build.options', /an array of strings/],
  ['forwardPorts', '3000', 'forwardPorts', /expected an array/],
  ['forwardPorts', '[70000]', 'forwardPorts[0]', /integer from 0 to 65535 or a "host:port" string, got number 70000/],
  ['forwardPorts', '["nocolon"]', 'forwardPorts[0]', /"host:port"/],
  ['forwardPorts', '[1.5]', 'forwardPorts[0]', /integer/],
  ['portsAttributes', '{ "3000": { "onAutoForward": "shout" } }', 'portsAttributes["3000"].onAutoForward', /one of "notify", "openBrowser"/],
  ['portsAttributes', '{ "3000": { "label": 1 } }', 'portsAttributes["3000"].label', /expected a string/],
  ['portsAttributes', '{ "90000": {} }', 'portsAttributes["90000"]', /out of range/],
  ['portsAttributes', '{ "9000-8000": {} }', 'portsAttributes["9000-8000"]', /reversed/],
  ['portsAttributes', '{ "(unclosed": {} }', 'portsAttributes["(unclosed"]', /regular expression/],
  ['otherPortsAttributes', '{ "protocol": "ftp" }', 'otherPortsAttributes.protocol', /"http", "https"/],
  ['appPort', 'true', 'appPort', /expected an integer/],
  ['runArgs', '"--rm"', 'runArgs', /array of strings/],
  ['shutdownAction', '"halt"', 'shutdownAction', /one of "none", "stopContainer", "stopCompose"/],
  ['overrideCommand', '"yes"', 'overrideCommand', /true or false/],
  ['waitFor', '"postBuildCommand"', 'waitFor', /one of "initializeCommand"/],
  ['workspaceFolder', '1', 'workspaceFolder', /a string/],
  ['workspaceMount', 'false', 'workspaceMount', /a string/],
  ['mounts', '["/a:/b"]', 'mounts[0]', /target= is required/],
  ['mounts', '[{ "type": "tmpfs", "target": "/t" }]', 'mounts[0].type', /"bind", "volume"/],
  ['mounts', '[{ "type": "bind", "source": "/a" }]', 'mounts[0].target', /missing required property "target"/],
  ['mounts', '[{ "type": "bind", "target": "/a", "ro": true }]', 'mounts[0].ro', /unknown property "ro"/],
  ['containerEnv', '{ "A": 1 }', 'containerEnv.A', /expected a string, got number 1/],
  ['containerEnv', '["A=1"]', 'containerEnv', /object of strings/],
  ['remoteEnv', '{ "A": false }', 'remoteEnv.A', /a string or null/],
  ['containerUser', '0', 'containerUser', /a string/],
  ['remoteUser', 'null', 'remoteUser', /a string, got null/],
  ['updateRemoteUserUID', '"true"', 'updateRemoteUserUID', /true or false/],
  ['userEnvProbe', '"bash"', 'userEnvProbe', /"none", "loginInteractiveShell"/],
  ['init', '1', 'init', /true or false/],
  ['privileged', '"no"', 'privileged', /true or false/],
  ['capAdd', '"SYS_ADMIN"', 'capAdd', /array of strings/],
  ['securityOpt', '[1]', 'securityOpt[0]', /a string/],
  ['features', '["node"]', 'features', /expected an object/],
  ['features', '{ "node": 1 }', 'features.node', /a string or true or false or an object/],
  ['features', '{ "node": { "version": [] } }', 'features.node.version', /a string or true or false or a number/],
  ['overrideFeatureInstallOrder', '"a"', 'overrideFeatureInstallOrder', /array of strings/],
  ['hostRequirements', '{ "cpus": 0 }', 'hostRequirements.cpus', /integer >= 1/],
  ['hostRequirements', '{ "memory": "4 GB" }', 'hostRequirements.memory', /a size such as "4gb"/],
  ['hostRequirements', '{ "gpu": "yes" }', 'hostRequirements.gpu', /true or false or one of "optional" or an object/],
  ['hostRequirements', '{ "gpu": { "cores": "2" } }', 'hostRequirements.gpu.cores', /integer/],
  ['customizations', '{ "vscode": { "extensions": "a" } }', 'customizations.vscode.extensions', /array of strings/],
  ['customizations', '{ "vscode": { "settings": [] } }', 'customizations.vscode.settings', /expected an object/],
  ['customizations', '[]', 'customizations', /expected an object/],
  ['secrets', '{ "T": { "description": 1 } }', 'secrets.T.description', /a string/],
  ['extensions', '"a"', 'extensions', /array of strings/],
  ['devPort', '"80"', 'devPort', /integer/],
];

test('wrong types name the JSON path, the position and what was expected', () => {
  for (const [prop, value, path, message] of WRONG) {
    const base = prop === 'image' || prop === 'build' ? '' : '"image": "debian", ';
    const text = `{\n  ${base}"${prop}": ${value}\n}`;
    const errors = errorsOf(text);
    const hit = errors.find((e) => e.path === path);
    assert.ok(hit, `${prop}=${value}: expected an error at ${path}, got ${JSON.stringify(errors)}`);
    assert.match(hit.message, message, `${prop}=${value}`);
    assert.equal(hit.line, 2, `${prop}=${value}: line`);
    assert.equal(hit.file, FILE);
    assert.ok(hit.column >= 3);
  }
});

test('the error message lists every error with its position', () => {
  const text = '{\n  "image": "debian",\n  "init": "yes",\n  "capAdd": [1]\n}';
  assert.throws(
    () => parseConfigText(text, FILE),
    (e: unknown) => {
      assert.ok(BerthError.is(e, 'invalid_argument'));
      assert.match(e.message, /devcontainer\.json:3:11: error: init: expected true or false, got the string "yes"/);
      assert.match(e.message, /devcontainer\.json:4:14: error: capAdd\[0\]: expected a string, got number 1/);
      return true;
    },
  );
});

test('unknown properties are warnings at the property name, not failures', () => {
  const { diagnostics } = parseConfigText('{\n  "image": "a",\n  "imagePullPolicy": "always"\n}', FILE);
  assert.equal(diagnostics.length, 1);
  assert.deepEqual({ ...diagnostics[0] }, {
    severity: 'warning',
    message: 'unknown property "imagePullPolicy"',
    path: 'imagePullPolicy',
    file: FILE,
    line: 3,
    column: 3,
  });
  assert.equal(warningsOf('{ "image": "a", "customizations": { "anyTool": { "x": 1 } } }').length, 0, 'customizations are open');
  assert.equal(warningsOf('{ "image": "a", "portsAttributes": { "1": { "colour": "red" } } }')[0]?.path, 'portsAttributes["1"].colour');
});

test('rules across properties', () => {
  assert.match(errorsOf('{ "dockerComposeFile": "c.yml" }')[0]?.message ?? '', /"service" is required/);
  assert.match(errorsOf('{ "dockerComposeFile": "c.yml", "service": "a", "image": "x" }')[0]?.message ?? '', /cannot be combined with "dockerComposeFile"/);
  assert.match(errorsOf('{ "dockerComposeFile": "c.yml", "service": "a", "shutdownAction": "stopContainer" }')[0]?.message ?? '', /stopCompose/);
  assert.match(warningsOf('{ "dockerComposeFile": "c.yml", "service": "a", "runArgs": [] }')[0]?.message ?? '', /cannot be combined/);
  assert.match(errorsOf('{ "image": "a", "shutdownAction": "stopCompose" }')[0]?.message ?? '', /needs a compose configuration/);
  assert.match(errorsOf('{ "image": "a", "build": { "dockerfile": "D" } }')[0]?.message ?? '', /mutually exclusive/);
  assert.match(errorsOf('{ "build": { "context": "." } }')[0]?.message ?? '', /"build" needs "dockerfile"/);
  assert.match(warningsOf('{ "image": "a", "service": "x" }')[0]?.message ?? '', /only used with "dockerComposeFile"/);
  assert.match(warningsOf('{ "name": "attach only" }')[0]?.message ?? '', /no "image"/);
});
