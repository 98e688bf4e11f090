/* global emit */
// Which contributions depend on which document of the same database: a visit on its farmer
// (for the district), a payment status on its request. When the document changes, the
// aggregator finds here whose buckets to recompute.
export default function (doc) {
  if (doc.kind === 'contribution' && doc.link) {
    emit([doc.db, doc.link], null);
  }
}
