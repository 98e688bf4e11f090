import type { SyncRule } from '../../sync-rules/types.js';

/**
 * What a well-shaped rule can still get wrong: fields it names that its schema lacks, and
 * settings that contradict each other. Each problem is one sentence saying what to change.
 */

type Schema = Record<string, unknown>;

export function ruleProblems(rule: SyncRule): string[] {
  const problems: string[] = [];
  const schema = rule.schema;
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = (schema.required ?? []) as string[];
  const field = (path: string, what: string) => {
    if (!fieldSchema(schema, path)) problems.push(`${what} "${path}" is not in the schema`);
  };
  const dateTimeField = (path: string, what: string) => {
    const found = fieldSchema(schema, path);
    if (!found) problems.push(`${what} "${path}" is not in the schema`);
    else if (found.format !== 'date-time') problems.push(`${what} "${path}" must be a date-time`);
  };

  if (schema.type !== 'object') problems.push('schema must have type "object"');
  const typeConst = props.type?.const;
  if (typeConst !== rule.type || !required.includes('type')) {
    problems.push(`schema must require "type" with { const: "${rule.type}" }`);
  }
  if (props[rule.ownerField]?.type !== 'string' || !required.includes(rule.ownerField)) {
    problems.push(`ownerField "${rule.ownerField}" must be a required string in the schema`);
  }
  if (schema.additionalProperties === false && !allowsCouchFields(schema)) {
    problems.push(`schema refuses CouchDB's own fields: add patternProperties { "^_": true }`);
  }
  if (rule.immutable !== 'all') for (const f of rule.immutable) field(f, 'immutable field');
  for (const f of rule.personalData) field(f, 'personal data field');
  for (const f of Object.keys(rule.messages ?? {})) field(f, 'message for field');
  dateTimeField(rule.retention.from, 'retention.from');

  const { strategy, field: conflictField } = rule.conflict;
  if (conflictField) dateTimeField(conflictField, 'conflict.field');
  else if (strategy !== 'manual') {
    problems.push(`conflict strategy ${strategy} needs conflict.field, a date-time field`);
  }
  if ((strategy === 'immutable' || strategy === 'append-only') && rule.immutable !== 'all') {
    problems.push(`conflict strategy ${strategy} needs immutable: "all" (edits would be lost)`);
  }
  if (rule.immutable === 'all' && rule.roles.update.length) {
    problems.push('roles.update must be empty when immutable is "all"');
  }
  if (rule.writer === 'server') {
    const granted = Object.entries(rule.roles).filter(([, list]) => list.length);
    for (const [action] of granted) {
      problems.push(`roles.${action} must be empty: only the server writes ${rule.type}`);
    }
  }
  const days = (d: number | 'forever') => (d === 'forever' ? Infinity : d);
  if (days(rule.retention.phoneDays) > days(rule.retention.serverDays)) {
    problems.push('retention.phoneDays must not exceed retention.serverDays');
  }
  if (rule.idPattern) {
    try {
      new RegExp(rule.idPattern.pattern, 'u');
    } catch (err) {
      problems.push(
        `idPattern.pattern is not a valid regular expression: ${(err as Error).message}`,
      );
    }
  }
  return problems;
}

/** The schema of a field path such as "location.lat", following `properties`. */
export function fieldSchema(schema: Schema, path: string): Schema | undefined {
  let current: Schema | undefined = schema;
  for (const part of path.split('.')) {
    const props = current?.properties as Record<string, Schema> | undefined;
    current = props && Object.hasOwn(props, part) ? props[part] : undefined;
  }
  return current && typeof current === 'object' ? current : undefined;
}

function allowsCouchFields(schema: Schema): boolean {
  const patterns = Object.keys((schema.patternProperties ?? {}) as Schema);
  const props = (schema.properties ?? {}) as Schema;
  return ['_id', '_rev'].every(
    (name) => Object.hasOwn(props, name) || patterns.some((p) => new RegExp(p, 'u').test(name)),
  );
}
