import type Nano from 'nano';
import type { Config } from '../server/config.js';
import { createAccounts, type Accounts } from '../server/accounts/service.js';
import { DEFAULT_SCRYPT_COST } from '../server/accounts/passwords.js';
import { buildDesignDocs, loadSyncRules } from '../server/rules/index.js';

/**
 * The accounts module as the scripts use it: production scrypt cost, the service's sync
 * rules, warnings and errors on stderr, and no access tokens (scripts hand out none).
 */
export function scriptAccounts(
  nano: Nano.ServerScope,
  config: Config,
  stderr: NodeJS.WritableStream = process.stderr,
): Accounts {
  const log = {
    warn: (obj: object, msg: string) => stderr.write(`warning: ${msg} ${JSON.stringify(obj)}\n`),
    error: (obj: object, msg: string) => stderr.write(`error: ${msg} ${JSON.stringify(obj)}\n`),
  };
  return createAccounts({
    nano,
    config,
    ddocs: buildDesignDocs(loadSyncRules()),
    scrypt: DEFAULT_SCRYPT_COST,
    log,
  });
}
