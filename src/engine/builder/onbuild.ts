/** ONBUILD: the triggers a base image carries, as instructions of the child build. */
import type { ImageRuntimeConfig } from '../../api/types/oci';
import { BerthError } from '../../common/errors';
import { type BuildState, runtimeConfig } from './build-state';
import { type Instruction, parseDockerfile } from './dockerfile';

/** The base's ONBUILD triggers as instructions (at the FROM's line). */
export function onBuildTriggers(state: BuildState, from: Instruction, file: string): Instruction[] {
  return (runtimeConfig(state).OnBuild ?? []).map((trigger) => {
    const parsed = parseDockerfile(`FROM scratch\n${trigger}\n`, file).stages[0]?.instructions[0];
    if (!parsed) throw new BerthError('invalid_argument', `${file}:${from.line}: empty ONBUILD trigger in the base image`);
    if (['ONBUILD', 'FROM', 'MAINTAINER'].includes(parsed.keyword)) throw new BerthError('invalid_argument', `${file}:${from.line}: ${parsed.keyword} isn't allowed as an ONBUILD trigger`);
    return { ...parsed, line: from.line };
  });
}

export function withoutOnBuild(config: ImageRuntimeConfig): ImageRuntimeConfig {
  const { OnBuild: _triggers, ...rest } = config;
  return rest;
}
