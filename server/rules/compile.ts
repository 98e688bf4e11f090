import { _ } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standalone from 'ajv/dist/standalone/index.js';
import { outsideReferences } from './self-contained.js';
import { readDesignSource, evaluateIsolated } from './sources.js';

/**
 * Compiles rule schemas with ajv (draft 2020-12, every error, strict) into standalone
 * validation code: one self-contained snippet per document type, with ajv's runtime helpers
 * inlined, ready to sit inside validate_doc_update. Nothing else validates documents: the
 * gateway runs the same generated function (check.ts), so the two cannot drift.
 */

// ajv's CommonJS default export is the function itself; its types claim a namespace.
const standaloneCode = ((standalone as unknown as { default?: unknown }).default ??
  standalone) as unknown as (ajv: Ajv2020, refs: Record<string, string>) => string;

const FORMATS_SOURCE = readDesignSource('fleet/sawa/validate_doc_update/formats.js');

/** Runtime helpers ajv's generated code may `require`, and the files that replace them. */
const HELPERS: Record<string, string> = {
  ucs2length: readDesignSource('fleet/sawa/validate_doc_update/ucs2length.js'),
  equal: readDesignSource('fleet/sawa/validate_doc_update/equal.js'),
};

/** Source of the function returning the format table, inlined once per validate_doc_update. */
export function formatsSource(): string {
  return FORMATS_SOURCE;
}

/** Source of deep equality, which validate_doc_update also uses for immutable fields. */
export function equalSource(): string {
  return HELPERS.equal as string;
}

export const SUPPORTED_FORMATS = Object.keys(
  evaluateIsolated<() => Record<string, unknown>>(FORMATS_SOURCE)(),
);

export function createAjv(): Ajv2020 {
  return new Ajv2020({
    allErrors: true,
    strict: true,
    // Formats are the very functions inlined into validate_doc_update, found by name in a
    // FORMATS table there. Unknown formats fail the compile, so a typo is a start-up error.
    formats: evaluateIsolated<() => Record<string, (s: string) => boolean>>(FORMATS_SOURCE)(),
    code: { source: true, es5: true, lines: true, formats: _`FORMATS` },
  });
}

export class CompileError extends Error {}

/**
 * Standalone code for one schema: the body of a function that returns the validator, e.g.
 * `var schema31 = …; function validate20(data, valCxt) {…} return validate20;`.
 */
export function standaloneValidator(ajv: Ajv2020, key: string): string {
  const code = standaloneCode(ajv, { v: key });
  const exported = /^exports\.v = (validate\d+);$/m.exec(code);
  if (!exported) throw new CompileError('unexpected ajv standalone output (no export found)');
  const body = code
    .replace(/^"use strict";$/m, '')
    .replace(exported[0], '')
    .replace(
      /^var (\w+) = require\("ajv\/dist\/runtime\/(\w+)"\)\.default;$/gm,
      (line, name: string, helper: string) => {
        const source = HELPERS[helper];
        if (!source) {
          throw new CompileError(`uses an ajv feature that needs the runtime helper "${helper}"`);
        }
        return `var ${name} = (${source});`;
      },
    );
  const outside = outsideReferences(`function () {\n${body}\n}`, ['FORMATS']);
  if (outside.length) {
    throw new CompileError(`uses an ajv feature that needs ${outside.join(', ')} at run time`);
  }
  return `${body.trim()}\nreturn ${exported[1]};`;
}
