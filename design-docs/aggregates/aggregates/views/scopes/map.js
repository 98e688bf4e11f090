/* global emit */
// Contributions per source database: group=true lists the databases the aggregates hold, so
// those that have since been deleted can be dropped; key=db lists one database's contributions.
export default function (doc) {
  if (doc.kind === 'contribution') {
    emit(doc.db, null);
  }
}
