/**
 * `berth token create --user NAME [--expires DURATION]`, `token list`,
 * `token revoke ID`: the gateway's access tokens (see `berth serve`). The
 * token itself is printed once, by create; the file keeps only its hash.
 */
import { BerthError } from '../../common/errors';
import { parseDuration } from '../../gateway/duration';
import { stringOption, type Command } from '../command';
import { CONFIG_DIR_OPTION, tokenStore } from '../gateway-config';

export const tokenCommand: Command = {
  name: 'token',
  summary: "Create, list and revoke the gateway's access tokens (berth serve).",
  usage: 'token create --user NAME [--expires DURATION] | token list | token revoke ID',
  allowPositionals: true,
  options: {
    ...CONFIG_DIR_OPTION,
    user: { type: 'string', valueName: 'NAME', description: 'The user the token acts as (create).' },
    expires: { type: 'string', valueName: 'DURATION', description: 'Lifetime, e.g. 12h, 30d (create; default: no expiry).' },
  },
  async run(values, positionals, ctx) {
    const [verb, arg, ...extra] = positionals;
    const store = tokenStore(values, ctx.env);
    if (verb === 'create' && !arg) {
      const user = stringOption(values, 'user');
      if (!user) throw new BerthError('invalid_argument', 'token create needs --user NAME');
      const expires = stringOption(values, 'expires');
      const { token, info } = await store.create(user, expires ? { expiresInMs: parseDuration(expires, '--expires') } : {});
      ctx.result({ outcome: 'success', token, ...info });
      return 0;
    }
    if (verb === 'list' && !arg) {
      ctx.result({ outcome: 'success', tokens: await store.list() });
      return 0;
    }
    if (verb === 'revoke' && arg && extra.length === 0) {
      ctx.result({ outcome: 'success', ...(await store.revoke(arg)) });
      return 0;
    }
    throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
  },
};
