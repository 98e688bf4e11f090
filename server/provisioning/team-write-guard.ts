import { designDocVersion, type DesignDoc } from '../rules/index.js';

/**
 * The write guard of team databases. `_security` admits every team member (role
 * `team:<slug>`) to read; CouchDB has no read-only membership, so this validation refuses
 * writes from members without `team:<slug>:write`. It runs beside the rules' own
 * validate_doc_update (CouchDB runs every one in the database), before it only in spirit:
 * both must pass. Server admins (the jobs) always write.
 *
 * Kept as source text, not a compiled function, so what CouchDB runs is exactly this.
 * ES5 only: CouchDB's SpiderMonkey and QuickJS both run it.
 */
export const TEAM_WRITE_GUARD_SOURCE = `function (newDoc, oldDoc, userCtx, secObj) {
  var roles = (userCtx && userCtx.roles) || [];
  if (roles.indexOf('_admin') !== -1) return;
  var match = /^team-([a-z][a-z0-9-]*)$/.exec((userCtx && userCtx.db) || '');
  if (!match) {
    throw { forbidden: 'this write guard belongs in a team database only' };
  }
  if (roles.indexOf('team:' + match[1] + ':write') === -1) {
    throw { forbidden: 'you are a read-only member of team ' + match[1] + ': only its writers may change documents here' };
  }
}`;

export const TEAM_WRITE_GUARD_ID = '_design/sawa-team-guard';

export function teamWriteGuard(): DesignDoc {
  const content = {
    _id: TEAM_WRITE_GUARD_ID,
    language: 'javascript' as const,
    kind: 'team' as const,
    validate_doc_update: TEAM_WRITE_GUARD_SOURCE,
    views: {},
  };
  return { ...content, version: designDocVersion(content) };
}
