/**
 * Builds the design documents from sync-rules/ and design-docs/ into design-docs/build/
 * (<kind>/<ddoc>.json), for review and for deploying by hand. The deploy step itself imports
 * buildDesignDocs from server/rules, so what it installs is what this writes.
 *
 *   npx tsx scripts/build-design-docs.ts [out-dir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDesignDocs, loadSyncRules, RulesError } from '../server/rules/index.js';
import { designDocsDir } from '../server/rules/sources.js';

function main(outDir: string): void {
  const set = buildDesignDocs(loadSyncRules());
  for (const [kind, docs] of Object.entries(set)) {
    mkdirSync(join(outDir, kind), { recursive: true });
    for (const doc of docs) {
      const file = join(outDir, kind, `${doc._id.replace(/^_design\//, '')}.json`);
      writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
      console.log(`${file}  version ${doc.version.slice(0, 12)}`);
    }
  }
}

try {
  main(process.argv[2] ?? join(designDocsDir(), 'build'));
} catch (err) {
  console.error(err instanceof RulesError ? err.message : err);
  process.exitCode = 1;
}
