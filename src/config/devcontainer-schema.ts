/**
 * The schema of devcontainer.json, property by property, after the Dev
 * Containers specification's base schema. Cross-property rules live in
 * validate.ts.
 */
import { LIFECYCLE_COMMANDS, ON_AUTO_FORWARD, USER_ENV_PROBES } from './types';
import { arrayOf, bool, int, num, objectOf, oneOfStrings, recordOf, str, union, type Schema } from '../common/schema';

const strings = (): Schema => arrayOf(str());

const lifecycleCommand = (): Schema =>
  union(
    str(),
    arrayOf(str()),
    recordOf(union(str(), arrayOf(str())), { key: (k) => (k.trim() === '' ? 'command names must not be empty' : undefined) }),
  );

const sizePattern = /^\d+([tgmk]b)?$/i;
const size = (): Schema => str({ pattern: sizePattern, patternText: 'a size such as "4gb", "512mb" or a number of bytes' });

const portAttributes = (): Schema =>
  objectOf({
    label: str(),
    onAutoForward: oneOfStrings(ON_AUTO_FORWARD),
    elevateIfNeeded: bool(),
    requireLocalPort: bool(),
    protocol: oneOfStrings(['http', 'https']),
  });

/** A portsAttributes key: a port, a port range "a-b", or a regular expression. */
export function portsAttributesKeyProblem(key: string): string | undefined {
  const range = /^(\d+)(?:-(\d+))?$/.exec(key);
  if (range) {
    const lo = Number(range[1]);
    const hi = range[2] === undefined ? lo : Number(range[2]);
    if (lo > 65535 || hi > 65535) return `port ${key} is out of range (0-65535)`;
    if (lo > hi) return `port range ${key} is reversed`;
    return undefined;
  }
  try {
    new RegExp(key);
    return undefined;
  } catch (err) {
    return `"${key}" is neither a port, a port range nor a valid regular expression (${(err as Error).message})`;
  }
}

const forwardPort = (): Schema =>
  union(
    int({ min: 0, max: 65535 }),
    str({ pattern: /^[A-Za-z0-9.-]+:\d{1,5}$/, patternText: 'a "host:port" string' }),
  );

const mountString = (): Schema =>
  str({
    pattern: /(^|,)\s*(target|dst|destination)=/,
    patternText: 'a mount string such as "source=vol,target=/data,type=volume" (target= is required)',
  });

const mountObject = (): Schema =>
  objectOf(
    { type: oneOfStrings(['bind', 'volume']), source: str(), target: str({ nonEmpty: true }) },
    { required: ['type', 'target'], unknown: 'error', expected: 'a mount object {type, source, target}' },
  );

const featureOptions = (): Schema => union(str(), bool(), recordOf(union(str(), bool(), num())));

const build = (): Schema =>
  objectOf({
    dockerfile: str({ nonEmpty: true }),
    context: str(),
    target: str(),
    args: recordOf(str()),
    cacheFrom: union(str(), arrayOf(str())),
    options: strings(),
  });

const hostRequirements = (): Schema =>
  objectOf({
    cpus: int({ min: 1 }),
    memory: size(),
    storage: size(),
    gpu: union(bool(), oneOfStrings(['optional']), objectOf({ cores: int({ min: 1 }), memory: size() })),
  });

const customizations = (): Schema =>
  objectOf(
    {
      vscode: objectOf(
        { extensions: strings(), settings: objectOf({}, { unknown: 'allow' }), devPort: int({ min: 0, max: 65535 }) },
        { unknown: 'allow' },
      ),
    },
    { unknown: 'allow' },
  );

const lifecycleProps = (): Record<string, Schema> =>
  Object.fromEntries(LIFECYCLE_COMMANDS.map((name) => [name, lifecycleCommand()]));

/** Every top-level property of devcontainer.json that Berth knows. */
export function devcontainerSchema(): Schema {
  return objectOf(
    {
      $schema: str(),
      name: str(),
      image: str({ nonEmpty: true }),
      build: build(),
      dockerFile: str({ nonEmpty: true }),
      context: str(),
      dockerComposeFile: union(str({ nonEmpty: true }), arrayOf(str({ nonEmpty: true }))),
      service: str({ nonEmpty: true }),
      runServices: strings(),
      forwardPorts: arrayOf(forwardPort()),
      portsAttributes: recordOf(portAttributes(), { key: portsAttributesKeyProblem }),
      otherPortsAttributes: portAttributes(),
      appPort: union(int({ min: 0, max: 65535 }), str(), arrayOf(union(int({ min: 0, max: 65535 }), str()))),
      runArgs: strings(),
      shutdownAction: oneOfStrings(['none', 'stopContainer', 'stopCompose']),
      overrideCommand: bool(),
      ...lifecycleProps(),
      waitFor: oneOfStrings(LIFECYCLE_COMMANDS),
      workspaceFolder: str(),
      workspaceMount: str(),
      mounts: arrayOf(union(mountString(), mountObject())),
      containerEnv: recordOf(str()),
      remoteEnv: recordOf(union(str(), { expected: 'null', types: ['null'], check: (v) => v === null })),
      containerUser: str(),
      remoteUser: str(),
      updateRemoteUserUID: bool(),
      userEnvProbe: oneOfStrings(USER_ENV_PROBES),
      init: bool(),
      privileged: bool(),
      capAdd: strings(),
      securityOpt: strings(),
      features: recordOf(featureOptions(), { key: (k) => (k.trim() === '' ? 'feature ids must not be empty' : undefined) }),
      overrideFeatureInstallOrder: strings(),
      hostRequirements: hostRequirements(),
      customizations: customizations(),
      secrets: recordOf(objectOf({ description: str(), documentationUrl: str() })),
      extensions: strings(),
      settings: objectOf({}, { unknown: 'allow' }),
      devPort: int({ min: 0, max: 65535 }),
    },
    {
      expected: 'a JSON object',
      deprecated: {
        dockerFile: 'use "build.dockerfile"',
        context: 'use "build.context"',
        extensions: 'use "customizations.vscode.extensions"',
        settings: 'use "customizations.vscode.settings"',
        devPort: 'use "customizations.vscode.devPort"',
      },
    },
  );
}
