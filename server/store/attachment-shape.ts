import {
  attachmentEntries,
  attachmentProblem,
  DEFAULT_CONTENT_TYPE,
} from '../couch/attachment-shape.js';
import { CouchError, errors } from './errors.js';

type Att = Record<string, unknown>;

/**
 * The `_attachments` of a written document as they will be stored, or the 400 CouchDB answers
 * for the whole request (couch_doc:from_json_obj_validate) before anything is written.
 */
export function checkAttachments(atts: unknown): Record<string, Att> {
  const entries = attachmentEntries(atts);
  if (!entries) {
    throw new CouchError(400, 'doc_validation', 'Bad special document member: _attachments');
  }
  const out: Record<string, Att> = {};
  for (const [name, att] of entries) {
    const problem = attachmentProblem(name, att);
    if (problem) throw errors.badRequest(problem);
    const a = att as Att;
    const value =
      a.stub !== true && a.content_type === undefined
        ? { ...a, content_type: DEFAULT_CONTENT_TYPE }
        : a;
    // defineProperty: an attachment named `__proto__` stays an attachment.
    Object.defineProperty(out, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
