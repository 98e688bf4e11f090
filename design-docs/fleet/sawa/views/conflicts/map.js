/* global emit */
// Documents with conflicting revisions, for the reconciler and the conflict report. CouchDB
// passes `_conflicts` to map functions, so this index holds exactly the documents to fix.
// Key [type, id] lets the reconciler walk one type at a time with its own strategy.
export default function (doc) {
  if (doc._conflicts && doc._conflicts.length) {
    emit([doc.type || null, doc._id], { rev: doc._rev, conflicts: doc._conflicts });
  }
}
