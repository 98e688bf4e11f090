import { attachmentEntries, attachmentProblem } from '../couch/attachment-shape.js';
import { syncErrors } from './errors.js';
import type { Doc } from './write-check.js';

/**
 * What CouchDB refuses before it looks at any document of a request, refused here first with
 * the same 400: the rules never judge, and CouchDB never stores, an attachment it cannot read.
 */
export function checkDocShapes(docs: readonly Doc[]): void {
  for (const doc of docs) {
    if (doc._attachments === undefined) continue;
    const entries = attachmentEntries(doc._attachments);
    if (!entries) throw syncErrors.badBody('Bad special document member: _attachments');
    for (const [name, att] of entries) {
      const problem = attachmentProblem(name, att);
      if (problem) throw syncErrors.badBody(problem);
    }
  }
}
