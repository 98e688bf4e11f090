/**
 * CouchDB's rule for a database name, once: as a pattern's source (the config schema's
 * database settings) and as a test. CouchDB's own `_users` and `_replicator` are not in it.
 */
export const DB_NAME_RULE = '[a-z][a-z0-9_$()+/-]*';
export const DB_NAME = new RegExp(`^${DB_NAME_RULE}$`);

/** What a backup takes: a database name, `_users`, `_replicator`, `*`, or a name's start then `*`. */
export const DB_PATTERN_RULE = `(?:_users|_replicator|\\*|${DB_NAME_RULE}\\*?)`;
export const DB_PATTERN = new RegExp(`^${DB_PATTERN_RULE}$`);
